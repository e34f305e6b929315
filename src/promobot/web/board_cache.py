"""`GET /api/list`'s JSON, kept per process on top of the process's kept board (`service/boards.py`).

Each row's JSON is kept apart and an answer is their join. When the kept board moved, only its rows that
are new objects are serialised again (it keeps an unchanged row as the same object). The answers (the
whole board, one app's or one environment's part) are kept per board, under an ETag naming the change
log's version it was read at, so an `If-None-Match` with it gets a 304 while nothing changed.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter

from promobot.service import boards, queries
from promobot.service.context import Context
from promobot.web.schemas import OperationOut

MAX_BODIES = 256  # serialised answers kept per board: the whole board and filtered ones
_ROW = TypeAdapter(dict[str, Any])


@dataclass
class _Entry:
    board: boards.Board
    fragments: list[bytes]  # each row's JSON
    bodies: dict[tuple[str | None, str | None], tuple[str, bytes]] = field(default_factory=dict)


class BoardCache:
    def __init__(self, ctx: Context, kept: boards.KeptBoard) -> None:
        self._ctx = ctx
        self._kept = kept
        self._lock = threading.Lock()
        self._entry: _Entry | None = None
        names = "\n".join([*ctx.pipeline.app_names, "", *ctx.pipeline.env_names])
        self._config = f"{zlib.crc32(names.encode()):08x}"  # replicas configured alike give alike ETags

    def answer(self, *, app: str | None = None, env: str | None = None) -> tuple[str, bytes]:
        """(ETag, JSON body) of the board, or of one app's or one environment's part of it."""
        entry = self._current()
        key = (app, env)
        found = entry.bodies.get(key)
        if found is None:
            rows = entry.board.rows
            if key == (None, None):
                fragments = entry.fragments
            else:
                part = {(row.app, row.env) for row in queries.only(self._ctx, rows, app=app, env=env)}
                fragments = [
                    json for row, json in zip(rows, entry.fragments, strict=True) if (row.app, row.env) in part
                ]
            (newest, count), floor = entry.board.version, entry.board.floor
            found = (f'"{self._config}-{newest}-{count}-{floor}"', b"[" + b",".join(fragments) + b"]")
            if len(entry.bodies) >= MAX_BODIES:
                entry.bodies.clear()
            entry.bodies[key] = found
        return found

    def _current(self) -> _Entry:
        board = self._kept.board()
        entry = self._entry
        if entry is not None and entry.board is board:
            return entry
        with self._lock:  # one request serialises a new board; the others wait and share it
            entry = self._entry
            if entry is not None and entry.board is board:
                return entry
            self._entry = _Entry(board, _fragments(board.rows, entry))
            return self._entry


def _fragments(rows: list[queries.Row], old: _Entry | None) -> list[bytes]:
    """Each row's JSON: the old entry's where the row is the same object in the same place."""
    if old is None or len(old.board.rows) != len(rows):
        return [row_json(row) for row in rows]
    before = zip(rows, old.board.rows, old.fragments, strict=True)
    return [json if row is was else row_json(row) for row, was, json in before]


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
