"""The audit repository: entries are appended and read, never changed.

There is deliberately no update or delete here; on the database side triggers refuse both (migration 0003).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from promobot.adapters.store import writes
from promobot.adapters.store.tables import audit
from promobot.domain.audit import Entry
from promobot.ports import Clock


class SqlAudit:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def append(self, entry: Entry) -> Entry:
        kept = entry.clipped()
        at = kept.at or self._clock.now()
        entry_id = writes.insert_returning_id(self._session, audit, _values(kept, at))
        return replace(kept, at=at, id=entry_id)

    def append_all(self, entries: Sequence[Entry]) -> None:
        """`append` for each, in order, in one statement."""
        now = self._clock.now()
        writes.insert_all(self._session, audit, [_values(kept, kept.at or now) for kept in map(Entry.clipped, entries)])

    def recent(self, *, actor: str | None = None, limit: int = 50, offset: int = 0) -> list[Entry]:
        query = select(audit).order_by(audit.c.id.desc()).limit(limit).offset(offset)
        if actor is not None:
            query = query.where(audit.c.actor == actor)
        return [_entry(row) for row in self._session.execute(query)]


def _values(kept: Entry, at: datetime) -> dict[str, Any]:
    return {
        "at": at,
        "actor": kept.actor,
        "action": kept.action,
        "subject": kept.subject,
        "outcome": kept.outcome,
        "detail": kept.detail,
        "operation_id": kept.operation_id,
    }


def _entry(row: Any) -> Entry:
    return Entry(
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        outcome=row.outcome,
        detail=row.detail,
        operation_id=row.operation_id,
        at=row.at,
        id=row.id,
    )
