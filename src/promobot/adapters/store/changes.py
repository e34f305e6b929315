"""Writing the change log: one row per change the board shows, in the same transaction as the change.

The deployments, operations and approvals repositories call these as they write, so a change and its
row commit or roll back together. `changes.id` is the store's change counter; `change_log.py` reads it.
Every `PRUNE_EVERY`th change also prunes the log: rows older than `KEEP_SECONDS` go, but never the
newest `KEEP_ROWS`, so the log holds at least the last hour (any client gone longer re-reads the board).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, literal, select
from sqlalchemy.orm import Session

from promobot.adapters.store import writes
from promobot.adapters.store.tables import changes, operations

OPERATION = "operation"
DEPLOYMENT = "deployment"
PRUNE_EVERY = 1000
KEEP_SECONDS = 3600
KEEP_ROWS = 10_000


def record(session: Session, kind: str, *, app: str, env: str, subject_id: int, at: datetime) -> None:
    """Log that the operation or deployment `subject_id` of (app, env) changed."""
    record_many(session, [{"kind": kind, "app": app, "env": env, "subject_id": subject_id, "at": at}])


def record_many(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Log several changes (each a dict of its columns) in one INSERT; prune when an id is a `PRUNE_EVERY`th."""
    if not rows:
        return
    ids = session.execute(_INSERT_RETURNING_ID, [dict(row) for row in rows]).scalars().all()
    if any(new_id % PRUNE_EVERY == 0 for new_id in ids):
        at = max(row["at"] for row in rows)
        prune(session, before=at - timedelta(seconds=KEEP_SECONDS), keep=KEEP_ROWS)


_INSERT_RETURNING_ID = insert(changes).returning(changes.c.id)


def record_operation(session: Session, operation_id: int, at: datetime) -> None:
    """Log a change of operation `operation_id` (its app and env read from its row; nothing when it is gone)."""
    found = select(
        literal(OPERATION), operations.c.app, operations.c.env, operations.c.id, literal(at, changes.c.at.type)
    ).where(operations.c.id == operation_id)
    session.execute(insert(changes).from_select(["kind", "app", "env", "subject_id", "at"], found))


def prune(session: Session, *, before: datetime, keep: int) -> int:
    """Delete changes logged before `before`, except the newest `keep`; returns how many went."""
    newest_kept = select(changes.c.id).order_by(changes.c.id.desc()).offset(max(keep, 1) - 1).limit(1)
    gone = session.execute(delete(changes).where(changes.c.at < before, changes.c.id < newest_kept.scalar_subquery()))
    return writes.rowcount(gone)
