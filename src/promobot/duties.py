"""Single-instance duties: the parts only one replica may run (embedded builder, local runtime, branch poller).

Every replica runs `Duties`; it tries the lease every `every` seconds. The replica that wins starts the
duty components (made fresh by `make()` each time); one that loses the lease — its database connection
dropped — stops them at its next try. A dead holder's connection drops with it, so another replica takes
over within a few seconds. The lease is `ports.Lease`; its adapter lives in `adapters/store/leases.py`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import structlog

from promobot import ports

log = structlog.get_logger(__name__)


class Component(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


class Duties:
    def __init__(self, lease: ports.Lease, make: Callable[[], Sequence[Component]], *, every: float = 2.0) -> None:
        self.lease = lease
        self._make = make
        self._every = every
        self._running: list[Component] = []
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="duties", daemon=True)

    @property
    def active(self) -> bool:
        """Whether this replica runs the duties now."""
        return bool(self._running)

    def start(self) -> None:
        """Try the lease once now (a single process starts its duties before it serves), then keep trying."""
        self._round()
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(30)
        self._stop_duties()
        self.lease.release()

    def wait_active(self, timeout: float) -> bool:
        """Block until this replica runs the duties (or `timeout` seconds passed); for tests and start-up."""
        with self._changed:
            return self._changed.wait_for(lambda: bool(self._running), timeout)

    def _run(self) -> None:
        while not self._stopping.wait(self._every):
            self._round()

    def _round(self) -> None:
        try:
            held = self.lease.try_acquire()
        except Exception:
            log.exception("trying the duties lease failed")
            held = False
        if held and not self._running and not self._stopping.is_set():
            self._start_duties()
        elif not held and self._running:
            log.warning("this replica lost the duties lease; stopping its builder, runtime and pollers")
            self._stop_duties()

    def _start_duties(self) -> None:
        """Start each duty in order; `active` turns True once the first one runs (the later ones use it)."""
        try:
            for component in self._make():
                component.start()
                with self._changed:
                    self._running.append(component)
                    self._changed.notify_all()
        except Exception:
            log.exception("starting the duties failed; giving the lease back")
            self._stop_duties()
            self.lease.release()
            return
        log.info("this replica holds the duties lease: it runs the builder, runtime and pollers")

    def _stop_duties(self) -> None:
        running, self._running = self._running, []
        for component in reversed(running):
            try:
                component.stop()
            except Exception:
                log.exception("stopping a duty failed", duty=type(component).__name__)
