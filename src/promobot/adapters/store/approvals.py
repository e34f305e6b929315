"""The approvals repository: who approved an operation, each user once, in the order they did."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from promobot.adapters.store import changes, writes
from promobot.adapters.store.tables import approvals
from promobot.domain import errors
from promobot.ports import Clock


class SqlApprovals:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def add(self, operation_id: int, user: str) -> None:
        """Record `user`'s approval; a second one by the same user changes nothing."""
        now = self._clock.now()
        values = {"operation_id": operation_id, "user": user, "approved_at": now}
        if not writes.insert_once(self._session, approvals, values) and user not in self.of(operation_id):
            raise errors.UnknownOperation(f"there is no operation {operation_id} to approve")
        changes.record_operation(self._session, operation_id, now)  # the board shows approvers

    def of(self, operation_id: int) -> list[str]:
        rows = self._session.execute(
            select(approvals.c.user).where(approvals.c.operation_id == operation_id).order_by(approvals.c.id)
        )
        return list(rows.scalars())
