"""One `promobot serve` per SQLite database: an exclusive lock file beside it, held while serving.

SQLite is the single-process default. A second process working on the same file would claim the same
operations, so it is refused with a line that says why and what to use instead.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from promobot.domain import errors


class ProcessLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise errors.ConfigError(
                f"another promobot serve (pid {holder}) already works on this SQLite database",
                "SQLite is single-process: stop that one, or use PostgreSQL (`database:`) for several replicas",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
