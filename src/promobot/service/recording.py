"""The store as the use cases see it: every operation change lands in the audit log, and locks hold work back.

`Context` wraps its store in `RecordingStore` once, so every unit of work a use case opens records each
operation it adds or whose state it changes (with the actor set by `acting_as`, else promobot itself), and
the worker's `claim_next` leaves the promotions and auto-deploys queued in locked environments alone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from promobot import ports
from promobot.domain import audit
from promobot.domain.operations import Operation, OperationEvent, State
from promobot.domain.people import SYSTEM

_actor: ContextVar[str] = ContextVar("promobot_actor", default=SYSTEM.name)


def actor() -> str:
    """Who the current thread acts for: a person inside `acting_as`, else promobot itself."""
    return _actor.get()


@contextmanager
def acting_as(name: str) -> Iterator[None]:
    token = _actor.set(name)
    try:
        yield
    finally:
        _actor.reset(token)


def change(operation: Operation, *, detail: str | None = None) -> audit.Entry:
    """The audit entry of `operation` having reached its current state."""
    return audit.Entry(
        actor=actor(),
        action=audit.OPERATION,
        subject=f"operation {operation.id}: {operation.kind} {operation.artifact} into {operation.env}",
        outcome=str(operation.state),
        detail=operation.message if detail is None else detail,
        operation_id=operation.id,
    )


class RecordingOperations:
    """`ports.Operations` that appends an audit entry for each new operation and each change of state."""

    def __init__(self, inner: ports.Operations, uow: ports.UnitOfWork) -> None:
        self._inner = inner
        self._uow = uow
        self._states: dict[int, State] = {}  # as last read in this unit of work: saves compare against it

    def add(self, operation: Operation) -> Operation:
        return self._changed(self._inner.add(operation))

    def get(self, operation_id: int) -> Operation | None:
        found = self._inner.get(operation_id)
        return self._seen([found])[0] if found is not None else None

    def many(self, operation_ids: Collection[int]) -> list[Operation]:
        return self._seen(self._inner.many(operation_ids))

    def save(self, operation: Operation) -> Operation:
        before = self._states.get(operation.id or 0)
        if before is None and operation.id is not None:
            stored = self._inner.get(operation.id)
            before = stored.state if stored is not None else None
        saved = self._inner.save(operation)
        return self._changed(saved) if saved.state is not before else self._seen([saved])[0]

    def claim_next(self, *, held: Collection[str] = ()) -> Operation | None:
        locked = {lock.env for lock in self._uow.locks.all()} | set(held)
        claimed = self._inner.claim_next(held=locked)
        return self._changed(claimed) if claimed is not None else None

    def active(self) -> list[Operation]:
        return self._seen(self._inner.active())

    def blocking(self, app: str, env: str) -> list[Operation]:
        return self._seen(self._inner.blocking(app, env))

    def recent(self, *, app: str | None = None, env: str | None = None, limit: int = 50) -> list[Operation]:
        return self._seen(self._inner.recent(app=app, env=env, limit=limit))

    def events(self, operation_id: int) -> list[OperationEvent]:
        return self._inner.events(operation_id)

    def set_chat_message(self, operation_id: int, channel: str, ts: str) -> None:
        self._inner.set_chat_message(operation_id, channel, ts)

    def claim_chat_message(self, operation_id: int, channel: str, *, stale_after: float) -> ports.ChatClaim:
        return self._inner.claim_chat_message(operation_id, channel, stale_after=stale_after)

    def release_chat_message(self, operation_id: int) -> None:
        self._inner.release_chat_message(operation_id)

    def chat_unrecorded(self, *, limit: int = 100) -> list[Operation]:
        return self._seen(self._inner.chat_unrecorded(limit=limit))

    def _seen(self, operations: list[Operation]) -> list[Operation]:
        self._states.update((op.id, op.state) for op in operations if op.id is not None)
        return operations

    def _changed(self, operation: Operation) -> Operation:
        self._uow.audit.append(change(operation))
        return self._seen([operation])[0]


class RecordingUnitOfWork:
    """`ports.UnitOfWork` around another: the same repositories, with operations recorded."""

    def __init__(self, inner: ports.UnitOfWork) -> None:
        self._inner = inner
        self.operations: ports.Operations = RecordingOperations(inner.operations, inner)
        self.artifacts: ports.Artifacts = inner.artifacts
        self.deployments: ports.Deployments = inner.deployments
        self.holds: ports.Holds = inner.holds
        self.approvals: ports.Approvals = inner.approvals
        self.deliveries: ports.Deliveries = inner.deliveries
        self.locks: ports.Locks = inner.locks
        self.audit: ports.Audit = inner.audit

    def commit(self) -> None:
        self._inner.commit()

    def rollback(self) -> None:
        self._inner.rollback()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # what the adapter offers beyond the port


class RecordingStore:
    """`ports.Store` around another; anything else the wrapped store offers (dispose, engine) passes through."""

    def __init__(self, inner: ports.Store) -> None:
        self.inner = inner

    @contextmanager
    def unit_of_work(self) -> Iterator[RecordingUnitOfWork]:
        with self.inner.unit_of_work() as uow:
            yield RecordingUnitOfWork(uow)

    def migrate(self) -> None:
        self.inner.migrate()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def recording(store: ports.Store) -> ports.Store:
    """`store` wrapped once (wrapping a recording store again returns it as it is)."""
    return store if isinstance(store, RecordingStore) else RecordingStore(store)
