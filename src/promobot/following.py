"""Following the store's change log in id order, without missing a change that commits late.

Change ids come from one sequence, but on PostgreSQL two transactions may commit out of order: id 11 can
be visible before id 10. `Follower` remembers such holes below the newest id it has seen and keeps looking
for them for `settle_seconds`; a hole still empty after that was a transaction that rolled back (ids are
not reused). Each `poll` returns what became visible since the last one, oldest first.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from promobot import ports

BATCH = 500


class Follower:
    def __init__(
        self,
        log: ports.ChangeLog,
        *,
        settle_seconds: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self._settle = settle_seconds
        self._monotonic = monotonic
        self.top = log.version(0)[0]  # the newest id seen; the follower starts at the log's present
        self._holes: dict[int, float] = {}  # id -> when it was first missed

    def poll(self) -> tuple[list[ports.LoggedChange], bool]:
        """(changes that became visible since the last poll, oldest first; whether more are waiting)."""
        fresh = self._log.after(self.top, limit=BATCH)
        found: list[ports.LoggedChange] = []
        if self._holes:
            lowest = min(self._holes)
            late = self._log.after(lowest - 1, limit=self.top - lowest + 1)
            found = [change for change in late if change.id in self._holes]
        now = self._monotonic()
        for change in found:
            del self._holes[change.id]
        for change in fresh:
            for missing in range(self.top + 1, change.id):
                self._holes[missing] = now
            self.top = change.id
        for missing, since in list(self._holes.items()):
            if now - since >= self._settle:
                del self._holes[missing]  # rolled back: that id will never commit
        return found + fresh, len(fresh) == BATCH

    def skip(self) -> None:
        """Move to the log's present without reading the changes in between (nobody is listening)."""
        self.top = self._log.version(self.top)[0]
        self._holes.clear()
