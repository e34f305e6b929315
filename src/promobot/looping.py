"""A background loop: call a function every few seconds, or at once when woken; stop cleanly."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)


class Loop:
    def __init__(self, name: str, body: Callable[[], object], interval: float) -> None:
        self._name = name
        self._body = body
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._body()
            except Exception:
                log.exception("background loop failed; it goes on", loop=self._name)
            self._wake.wait(self._interval)
