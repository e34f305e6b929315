"""The board kept per process until the store's change counter moves: what `list` shows in chat, on the
dashboard and in `GET /api/list` (whose JSON `web/board_cache.py` keeps on top of this).

Each call asks the change log for its version (one indexed query): the newest change id and how many
changes lie above a `floor`, the newest id older than `SETTLE_SECONDS` (a PostgreSQL transaction may commit
after a later id's; counting the ids above the floor sees it land). While the version is the one the
board was read at, the kept board is the answer.

When it moved, one caller at a time brings the board up to date (the others wait and share it): the
current deployments of the (app, env) pairs logged since the kept board (above its newest id, or above
its floor when an id was missing then) come in one read (`ChangeLog.current_since`), however many pairs,
and the running operations in another only when one of theirs changed (every operation change is logged
too, so otherwise a pair's operation is the one its row holds); only those pairs' rows are made again. Every other
row is the same object as before, so a reader that derived something from a row (its JSON) can keep it.
The whole board is read only at first, and when the log was pruned past the kept board.
The version is always read before the rows, so a board is never older than the version it is kept under.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from promobot import ports
from promobot.service import queries
from promobot.service.context import Context

SETTLE_SECONDS = 10.0
FLOOR_SECONDS = 5.0  # a new floor is read at most this often
Pair = tuple[str, str]


@dataclass(frozen=True)
class Board:
    """Every row of the board in pipeline order, as of the change log's `version` above `floor`."""

    rows: list[queries.Row]
    version: tuple[int, int]
    floor: int
    floor_read: float  # when the floor was read (monotonic seconds)

    @property
    def complete_to(self) -> int:
        """The id up to which every change is in `rows`: the newest when no id above the floor was missing
        as the version was read, else the floor (a missing id may still commit)."""
        newest, count = self.version
        return newest if count == newest - self.floor else self.floor


class KeptBoard:
    """One per process (the bootstrap makes it): `board()` is the board as the store has it now."""

    def __init__(self, ctx: Context, changes: ports.ChangeLog | None) -> None:
        self._ctx = ctx
        self._changes = changes
        self._lock = threading.Lock()
        self._kept: Board | None = None
        self._positions = {  # where each (app, env) is on the board (fixed by the config)
            (app, env): at
            for at, (app, env) in enumerate((a, e) for a in ctx.pipeline.app_names for e in ctx.pipeline.env_names)
        }

    def board(self) -> Board:
        if self._changes is None:  # no change log: nothing to key a copy on
            return Board(queries.board(self._ctx), (0, 0), 0, 0.0)
        kept = self._kept
        seen = self._changes.version(kept.floor) if kept is not None else None
        if kept is not None and seen == kept.version:
            return kept
        with self._lock:
            latest = self._kept
            if latest is not None and latest is not kept and self._changes.version(latest.floor) == latest.version:
                return latest  # another caller brought it up to date meanwhile
            self._kept = self._read(latest, self._changes, seen if latest is kept else None)
            return self._kept

    def _read(self, old: Board | None, changes: ports.ChangeLog, seen: tuple[int, int] | None) -> Board:
        """The board brought up to date from `old`; `seen`: the version above `old.floor`, read just now."""
        if old is not None and time.monotonic() - old.floor_read < FLOOR_SECONDS:
            floor, floor_read = old.floor, old.floor_read  # an older floor is as safe, only less tight
        else:
            floor = changes.settled(self._ctx.clock.now() - timedelta(seconds=SETTLE_SECONDS))
            floor_read = time.monotonic()
        # Before the rows, so they are at least as new as this; `seen` was, if it is above the same floor.
        version = seen if seen is not None and old is not None and floor == old.floor else changes.version(floor)
        current = changes.current_since(old.complete_to) if old is not None else None
        if old is None or current is None:
            return Board(_same_where_equal(old, queries.board(self._ctx)), version, floor, floor_read)
        rows = list(old.rows)
        mine = {pair: since for pair, since in current.items() if pair in self._positions}  # on this board
        moving = queries.moving(self._ctx) if any(s.operations_changed for s in mine.values()) else {}
        for (app, env), since in mine.items():
            at = self._positions[(app, env)]
            operation = moving.get((app, env)) if since.operations_changed else old.rows[at].operation
            rows[at] = queries.row(app, env, since.deployment, operation)
        return Board(rows, version, floor, floor_read)


def _same_where_equal(old: Board | None, rows: list[queries.Row]) -> list[queries.Row]:
    """`rows`, with each row equal to the old board's in its place replaced by that (the same object)."""
    if old is None or len(old.rows) != len(rows):
        return rows
    return [before if before == row else row for before, row in zip(old.rows, rows, strict=True)]
