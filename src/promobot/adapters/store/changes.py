"""Writing the change log: one row per change the board shows, in the same transaction as the change.

The deployments, operations and approvals repositories call these as they write, so a change and its
row commit or roll back together. `changes.id` is the store's change counter; `change_log.py` reads it.
Every `PRUNE_EVERY`th change also prunes the log: rows older than `KEEP_SECONDS` go, but never the
newest `KEEP_ROWS`, so the log holds at least the last hour (any client gone longer re-reads the board).
"""

from __future__ import annotations

from datetime import datetime, timedelta

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
    values = {"kind": kind, "app": app, "env": env, "subject_id": subject_id, "at": at}
    if writes.insert_returning_id(session, changes, values) % PRUNE_EVERY == 0:
        prune(session, before=at - timedelta(seconds=KEEP_SECONDS), keep=KEEP_ROWS)


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
