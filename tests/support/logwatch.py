"""Everything promobot logs while a test runs, as text: structlog events and stdlib records (Bolt, httpx).

    with logwatch.watching() as seen:
        ...
    assert not seen.failures()      # promobot logged no error, and nothing logged a traceback
    assert secret not in seen.text()

structlog is routed into the watcher (with tracebacks rendered, as `promobot serve` renders them, and at
every level) and the root logger is opened to `level` (INFO, what `promobot serve` logs) for the block;
both are put back after.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog


class Seen:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: list[tuple[bool, str, str]] = []  # (promobot's own, level, line with any traceback)

    def add(self, own: bool, level: str, line: str) -> None:
        with self._lock:
            self.entries.append((own, level, line))

    def text(self) -> str:
        with self._lock:
            return "\n".join(line for _, _, line in self.entries)

    def failures(self) -> list[str]:
        """promobot's lines at error level or above, and any line carrying a traceback (an unhandled error)."""
        with self._lock:
            return [
                line
                for own, level, line in self.entries
                if (own and level in ("error", "critical")) or "Traceback (most" in line
            ]

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()


class _Records(logging.Handler):
    def __init__(self, seen: Seen) -> None:
        super().__init__(logging.DEBUG)
        self.seen = seen
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        own = record.name.startswith("promobot")
        self.seen.add(own, record.levelname.lower(), self.format(record))


@contextmanager
def watching(level: int = logging.INFO) -> Iterator[Seen]:
    seen = Seen()

    def collect(_: Any, method: str, event: MutableMapping[str, Any]) -> str:
        level = str(event.get("level", method))
        seen.add(True, level, " ".join(f"{key}={value}" for key, value in event.items()))
        raise structlog.DropEvent

    saved = structlog.get_config()
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.format_exc_info, collect],
        cache_logger_on_first_use=False,
    )
    handler = _Records(seen)
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield seen
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
        structlog.configure(**saved)
