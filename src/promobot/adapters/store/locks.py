"""The locks repository: release freezes, at most one per environment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from promobot.adapters.store import writes
from promobot.adapters.store.tables import locks
from promobot.domain.locks import Lock


class SqlLocks:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, env: str) -> Lock | None:
        row = self._session.execute(select(locks).where(locks.c.env == env)).first()
        return _lock(row) if row is not None else None

    def all(self) -> list[Lock]:
        return [_lock(row) for row in self._session.execute(select(locks).order_by(locks.c.env))]

    def add(self, lock: Lock) -> bool:
        """Lock the environment unless it is locked (also when another transaction locked it first)."""
        values = {"env": lock.env, "by": lock.by, "reason": lock.reason, "at": lock.at}
        return writes.insert_unless_duplicate(self._session, locks, values)

    def remove(self, env: str) -> Lock | None:
        row = self._session.execute(delete(locks).where(locks.c.env == env).returning(*locks.c)).first()
        return _lock(row) if row is not None else None


def _lock(row: Any) -> Lock:
    return Lock(env=row.env, by=row.by, reason=row.reason, at=row.at)
