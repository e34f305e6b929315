"""The operation worker's loop body: claim queued operations and advance running ones."""

from __future__ import annotations

import time

import structlog

from promobot.domain import errors
from promobot.domain.operations import Operation, State
from promobot.service import advancing
from promobot.service.context import Context

log = structlog.get_logger(__name__)
MAX_STEPS = 20


class Backoff:
    """When each operation that hit a temporary error may be tried again (in memory; a restart retries)."""

    def __init__(self) -> None:
        self._until: dict[int, tuple[float, int]] = {}

    def ready(self, operation_id: int) -> bool:
        return time.monotonic() >= self._until.get(operation_id, (0.0, 0))[0]

    def failed(self, operation_id: int, delay: float) -> int:
        attempts = self._until.get(operation_id, (0.0, 0))[1] + 1
        self._until[operation_id] = (time.monotonic() + min(delay * 2 ** (attempts - 1), 30.0), attempts)
        return attempts

    def clear(self, operation_id: int) -> None:
        self._until.pop(operation_id, None)


def tick(ctx: Context, backoff: Backoff) -> int:
    """One pass; returns how many steps were taken."""
    with ctx.store.unit_of_work() as uow:
        while uow.operations.claim_next() is not None:
            pass
        uow.commit()
        running = [op for op in uow.operations.active() if op.state is State.RUNNING]
    return sum(_drive(ctx, op, backoff) for op in running if op.id is not None and backoff.ready(op.id))


def _drive(ctx: Context, operation: Operation, backoff: Backoff) -> int:
    assert operation.id is not None
    steps = 0
    try:
        while steps < MAX_STEPS:
            with ctx.store.unit_of_work() as uow:
                fresh = uow.operations.get(operation.id)
            if fresh is None or fresh.state is not State.RUNNING:
                break
            steps += 1
            if not advancing.advance(ctx, fresh):
                break
        backoff.clear(operation.id)
    except errors.TemporaryError as exc:
        attempts = backoff.failed(operation.id, exc.retry_after)
        log.warning("operation will retry", operation=operation.id, attempt=attempts, error=str(exc))
        if attempts >= 8:
            _fail(ctx, operation.id, f"gave up after {attempts} attempts: {exc}")
    except errors.PromobotError as exc:
        _fail(ctx, operation.id, str(exc))
    except Exception as exc:
        log.exception("operation step crashed", operation=operation.id)
        _fail(ctx, operation.id, f"internal error ({type(exc).__name__}); see the server log")
    return steps


def _fail(ctx: Context, operation_id: int, message: str) -> None:
    with ctx.store.unit_of_work() as uow:
        operation = uow.operations.get(operation_id)
    if operation is not None and not operation.state.finished:
        advancing.fail(ctx, operation, message)
