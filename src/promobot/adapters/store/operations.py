"""The operations repository: durable commands, their audit trail, and handing the next one to a worker.

`claim_next` is safe with several workers in several processes: on PostgreSQL it locks its candidate
with `FOR UPDATE SKIP LOCKED` and only considers the oldest queued operation of each (app, env); the
partial unique index on active operations turns any race that slips through into a collision, after
which that (app, env) is passed over. On SQLite the transaction began with `BEGIN IMMEDIATE`, so claims
are serialised anyway.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from promobot.adapters.store import changes, operation_rows, writes
from promobot.adapters.store.tables import approvals, operation_events, operations
from promobot.domain import errors
from promobot.domain.operations import Kind, Operation, OperationEvent, State
from promobot.ports import ChatClaim, Clock

ACTIVE = (str(State.RUNNING), str(State.AWAITING_APPROVAL))
UNFINISHED = (str(State.QUEUED), *ACTIVE)


class SqlOperations:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def add(self, operation: Operation) -> Operation:
        now = self._clock.now()
        values = {**operation_rows.to_row(operation), "created_at": operation.created_at or now}
        try:
            with self._session.begin_nested():
                operation_id = writes.insert_returning_id(self._session, operations, {**values, "updated_at": now})
        except IntegrityError as error:
            raise _already_active(operation) from error
        self._record(operation_id, operation, now)
        self._logged(operation.app, operation.env, operation_id, now)
        return self._require(operation_id)

    def get(self, operation_id: int) -> Operation | None:
        found = self._many(select(operations).where(operations.c.id == operation_id))
        return found[0] if found else None

    def save(self, operation: Operation) -> Operation:
        if operation.id is None:
            raise errors.UnknownOperation("this operation was never stored", "add it before saving it")
        stored = self._session.execute(
            select(operations.c.state, operations.c.step, operations.c.message)
            .where(operations.c.id == operation.id)
            .with_for_update()
        ).first()
        if stored is None:
            raise errors.UnknownOperation(f"there is no operation {operation.id}")
        now = self._clock.now()
        try:
            self._update(operation.id, {**operation_rows.to_row(operation), "updated_at": now})
        except IntegrityError as error:
            raise _already_active(operation) from error
        if tuple(stored) != (str(operation.state), str(operation.step), operation.message):
            self._record(operation.id, operation, now)
        self._logged(operation.app, operation.env, operation.id, now)
        return self._require(operation.id)

    def claim_next(self, *, held: Collection[str] = ()) -> Operation | None:
        passed_over: set[tuple[str, str]] = set()
        while (row := self._session.execute(_next_queued(passed_over, sorted(held))).first()) is not None:
            claimed = operation_rows.from_row(row, []).move(State.RUNNING)
            now = self._clock.now()
            try:
                self._update(row.id, {"state": str(State.RUNNING), "updated_at": now})
            except IntegrityError:
                passed_over.add((row.app, row.env))  # another worker started one there first
                continue
            self._record(row.id, claimed, now)
            self._logged(row.app, row.env, row.id, now)
            return self._require(row.id)
        return None

    def many(self, operation_ids: Collection[int]) -> list[Operation]:
        """The operations with these ids (those that exist), in id order."""
        return self._many(select(operations).where(operations.c.id.in_(list(operation_ids))).order_by(operations.c.id))

    def active(self) -> list[Operation]:
        return self._many(select(operations).where(operations.c.state.in_(ACTIVE)).order_by(operations.c.id))

    def blocking(self, app: str, env: str) -> list[Operation]:
        return self._many(
            select(operations)
            .where(operations.c.app == app, operations.c.env == env, operations.c.state.in_(UNFINISHED))
            .order_by(operations.c.id)
        )

    def recent(self, *, app: str | None = None, env: str | None = None, limit: int = 50) -> list[Operation]:
        query = select(operations).order_by(operations.c.id.desc()).limit(limit)
        if app is not None:
            query = query.where(operations.c.app == app)
        if env is not None:
            query = query.where(operations.c.env == env)
        return self._many(query)

    def events(self, operation_id: int) -> list[OperationEvent]:
        rows = self._session.execute(
            select(operation_events)
            .where(operation_events.c.operation_id == operation_id)
            .order_by(operation_events.c.id)
        )
        return [operation_rows.event_from_row(row) for row in rows]

    def set_chat_message(self, operation_id: int, channel: str, ts: str) -> None:
        self._update(operation_id, {"chat_channel": channel, "chat_ts": ts})

    def claim_chat_message(self, operation_id: int, channel: str, *, stale_after: float) -> ChatClaim:
        row = self._session.execute(
            select(operations.c.chat_channel, operations.c.chat_ts, operations.c.chat_claimed_at)
            .where(operations.c.id == operation_id)
            .with_for_update()
        ).first()
        now = self._clock.now()
        if row is None or row.chat_ts:
            return ChatClaim.TAKEN
        if row.chat_claimed_at is not None and row.chat_claimed_at > now - timedelta(seconds=stale_after):
            return ChatClaim.TAKEN
        self._update(operation_id, {"chat_channel": channel, "chat_claimed_at": now})
        return ChatClaim.AGAIN if row.chat_channel else ChatClaim.FIRST

    def release_chat_message(self, operation_id: int) -> None:
        with self._session.begin_nested():
            self._session.execute(
                update(operations)
                .where(operations.c.id == operation_id, operations.c.chat_ts == "")
                .values(chat_claimed_at=None)
            )

    def chat_unrecorded(self, *, limit: int = 100) -> list[Operation]:
        claimed = and_(operations.c.chat_channel != "", operations.c.chat_ts == "")
        return self._many(select(operations).where(claimed).order_by(operations.c.id).limit(limit))

    def _update(self, operation_id: int, values: dict[str, Any]) -> None:
        with self._session.begin_nested():
            self._session.execute(update(operations).where(operations.c.id == operation_id).values(**values))

    def _record(self, operation_id: int, operation: Operation, at: datetime) -> None:
        self._session.execute(
            insert(operation_events).values(
                operation_id=operation_id,
                state=str(operation.state),
                step=str(operation.step),
                message=operation.message,
                at=at,
            )
        )

    def _logged(self, app: str, env: str, operation_id: int, at: datetime) -> None:
        """The board shows this change: log it (`changes.py`) in this transaction."""
        changes.record(self._session, changes.OPERATION, app=app, env=env, subject_id=operation_id, at=at)

    def _require(self, operation_id: int) -> Operation:
        found = self.get(operation_id)
        assert found is not None, f"operation {operation_id} vanished inside its own transaction"
        return found

    def _many(self, query: Select[Any]) -> list[Operation]:
        rows = list(self._session.execute(query))
        by_operation = self._approvers(row.id for row in rows)
        return [operation_rows.from_row(row, by_operation.get(row.id, [])) for row in rows]

    def _approvers(self, operation_ids: Iterable[int]) -> dict[int, list[str]]:
        ids = list(operation_ids)
        found: dict[int, list[str]] = {}
        if ids:
            rows = self._session.execute(
                select(approvals.c.operation_id, approvals.c.user)
                .where(approvals.c.operation_id.in_(ids))
                .order_by(approvals.c.id)
            )
            for operation_id, user in rows:
                found.setdefault(operation_id, []).append(user)
        return found


def _next_queued(passed_over: set[tuple[str, str]], held: list[str]) -> Select[Any]:
    """The oldest queued operation that is the oldest of its (app, env) and has no active sibling.

    In `held` environments only rollbacks are candidates, and the operations waiting there stand aside.
    """
    active = operations.alias("active")
    older = operations.alias("older")
    query = (
        select(operations)
        .where(
            operations.c.state == str(State.QUEUED),
            *_claimable(operations, held),
            ~exists().where(
                active.c.app == operations.c.app,
                active.c.env == operations.c.env,
                active.c.state.in_(ACTIVE),
            ),
            ~exists().where(
                older.c.app == operations.c.app,
                older.c.env == operations.c.env,
                older.c.state == str(State.QUEUED),
                older.c.id < operations.c.id,
                *_claimable(older, held),
            ),
        )
        .order_by(operations.c.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=operations)
    )
    if passed_over:
        pairs = [and_(operations.c.app == app, operations.c.env == env) for app, env in passed_over]
        query = query.where(~or_(*pairs))
    return query


def _claimable(table: Any, held: list[str]) -> tuple[Any, ...]:
    """The condition for operations a lock does not hold back: anywhere not `held`, and rollbacks everywhere."""
    if not held:
        return ()
    return (or_(table.c.env.not_in(held), table.c.kind == str(Kind.ROLLBACK)),)


def _already_active(operation: Operation) -> errors.InvalidTransition:
    return errors.InvalidTransition(
        f"{operation.app} already has an active operation in {operation.env}",
        "wait for it to finish; at most one operation runs per app and environment",
    )
