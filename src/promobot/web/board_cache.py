"""`GET /api/list`'s JSON, kept per process until the store's change counter moves.

Each request asks the change log for its version (one indexed query): the newest change id and how many
changes lie above a `floor`, the newest id older than `SETTLE_SECONDS` (a PostgreSQL transaction may commit
after a later id's; counting the ids above the floor sees it land). While the version is the one the
board was read at, the serialised answer is reused and an `If-None-Match` with its ETag gets a 304.

When it moved, one request at a time brings the board up to date (the others wait and share it): the
rows of the (app, env) pairs logged since the kept board (above its newest id, or above its floor when
an id was missing then) are read again and re-serialised, the rest kept (each row's JSON is kept apart,
the answer is their join); past `MAX_AGAIN` pairs the whole board is read.
The version is always read before the rows, so a board is never older than the version it is kept under.
"""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter

from promobot import ports
from promobot.service import queries
from promobot.service.context import Context
from promobot.web.schemas import OperationOut

SETTLE_SECONDS = 10.0
FLOOR_SECONDS = 5.0  # a new floor is read at most this often
MAX_AGAIN = 200  # pairs read again one by one; more, and the whole board is read in one query
MAX_BODIES = 256  # serialised answers kept per version: the whole board and filtered ones
_ROW = TypeAdapter(dict[str, Any])
Pair = tuple[str, str]


@dataclass
class _Entry:
    floor: int
    floor_read: float  # when the floor was read (monotonic seconds)
    version: tuple[int, int]
    rows: list[queries.Row]
    fragments: list[bytes]  # each row's JSON
    bodies: dict[tuple[str | None, str | None], tuple[str, bytes]] = field(default_factory=dict)

    @property
    def complete_to(self) -> int:
        """The id up to which every change is in `rows`: the newest when no id above the floor was missing
        as the version was read, else the floor (a missing id may still commit)."""
        newest, count = self.version
        return newest if count == newest - self.floor else self.floor


class BoardCache:
    def __init__(self, ctx: Context, changes: ports.ChangeLog | None) -> None:
        self._ctx = ctx
        self._changes = changes
        self._lock = threading.Lock()
        self._entry: _Entry | None = None
        self._positions: dict[Pair, int] = {}  # where each (app, env) is on the board (fixed by the config)
        names = "\n".join([*ctx.pipeline.app_names, "", *ctx.pipeline.env_names])
        self._config = f"{zlib.crc32(names.encode()):08x}"  # replicas configured alike give alike ETags

    def answer(self, *, app: str | None = None, env: str | None = None) -> tuple[str, bytes]:
        """(ETag, JSON body) of the board, or of one app's or one environment's part of it."""
        entry = self._current()
        key = (app, env)
        found = entry.bodies.get(key)
        if found is None:
            if key == (None, None):
                fragments = entry.fragments
            else:
                part = {(row.app, row.env) for row in queries.only(self._ctx, entry.rows, app=app, env=env)}
                rows = zip(entry.rows, entry.fragments, strict=True)
                fragments = [fragment for row, fragment in rows if (row.app, row.env) in part]
            newest, count = entry.version
            found = (f'"{self._config}-{newest}-{count}-{entry.floor}"', b"[" + b",".join(fragments) + b"]")
            if len(entry.bodies) >= MAX_BODIES:
                entry.bodies.clear()
            entry.bodies[key] = found
        return found

    def _current(self) -> _Entry:
        if self._changes is None:  # no change log: nothing to key a copy on
            rows = queries.board(self._ctx)
            return _Entry(0, 0.0, (0, 0), rows, [row_json(row) for row in rows])
        entry = self._entry
        if entry is not None and self._changes.version(entry.floor) == entry.version:
            return entry
        with self._lock:
            latest = self._entry
            if latest is not None and latest is not entry and self._changes.version(latest.floor) == latest.version:
                return latest  # another request brought it up to date meanwhile
            self._entry = self._read(latest, self._changes)
            return self._entry

    def _read(self, old: _Entry | None, changes: ports.ChangeLog) -> _Entry:
        if old is not None and time.monotonic() - old.floor_read < FLOOR_SECONDS:
            floor, floor_read = old.floor, old.floor_read  # an older floor is as safe, only less tight
        else:
            floor = changes.settled(self._ctx.clock.now() - timedelta(seconds=SETTLE_SECONDS))
            floor_read = time.monotonic()
        version = changes.version(floor)  # before the rows: they are at least as new as this
        pairs = changes.touched(old.complete_to, limit=MAX_AGAIN + 1) if old is not None else None
        if old is None or pairs is None or len(pairs) > MAX_AGAIN:
            rows = queries.board(self._ctx)
            self._positions = {(row.app, row.env): at for at, row in enumerate(rows)}
            return _Entry(floor, floor_read, version, rows, [row_json(row) for row in rows])
        rows, fragments = list(old.rows), list(old.fragments)
        for pair, row in queries.board_rows(self._ctx, pairs).items():
            if (at := self._positions.get(pair)) is not None:  # a pair this replica's board shows
                rows[at], fragments[at] = row, row_json(row)
        return _Entry(floor, floor_read, version, rows, fragments)


def row_json(row: queries.Row) -> bytes:
    """One board row as `RowOut` describes it (keys in its order)."""
    return _ROW.dump_json(
        {
            "app": row.app,
            "env": row.env,
            "artifact": row.artifact,
            "source_revision": row.source_revision,
            "state": row.state,
            "deployed_at": row.deployed_at,
            "deployed_by": row.deployed_by,
            "url": row.url,
            "operation": OperationOut.of(row.operation).model_dump() if row.operation is not None else None,
        }
    )


def board_json(rows: list[queries.Row]) -> bytes:
    """Board rows as the JSON array `list[RowOut]` describes."""
    return b"[" + b",".join(row_json(row) for row in rows) + b"]"


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an `If-None-Match` header names `etag` (weak comparison, as RFC 9110 asks for GET)."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)
