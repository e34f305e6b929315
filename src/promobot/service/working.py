"""The operation worker's loop body: claim queued operations, advance running ones, poll waiting approvals.

With several replicas every worker sees every active operation; `ports.OperationLocks` makes each drive only
the operations it holds a lock on (an advisory lock per operation on PostgreSQL), so no two replicas
ever take a step of the same operation at once.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import structlog

from promobot import ports
from promobot.domain import errors
from promobot.domain.operations import Operation, State
from promobot.service import advancing
from promobot.service.context import Context

log = structlog.get_logger(__name__)
MAX_STEPS = 20


def _monotonic() -> float:
    return time.monotonic()  # looked up at each call, so a test may replace this module's `time`


class Backoff:
    """When each operation may be driven again (in memory; a restart retries at once).

    After a temporary error: exponential backoff from the error's `retry_after`, capped at `cap` seconds,
    with jitter (each wait is cut by up to `jitter` of itself, drawn from `random`), so operations that
    failed together do not all retry together. After a step found it must wait on the world: a rest of
    `rest` seconds (`approval_rest` while waiting for approval), cut short by `wake()` when an event came in.
    `random` and `clock` are injectable for tests.
    """

    def __init__(
        self,
        *,
        rest: float = 0.0,
        approval_rest: float = 0.0,
        cap: float = 30.0,
        jitter: float = 0.5,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._until: dict[int, tuple[float, int]] = {}
        self._resting: dict[int, float] = {}
        self._rest = rest
        self._approval_rest = approval_rest
        self._cap = cap
        self._jitter = min(max(jitter, 0.0), 1.0)
        self._random = random
        self._clock = clock or _monotonic

    def ready(self, operation_id: int) -> bool:
        now = self._clock()
        return now >= self._until.get(operation_id, (0.0, 0))[0] and now >= self._resting.get(operation_id, 0.0)

    def waiting(self, operation: Operation) -> None:
        seconds = self._approval_rest if operation.state is State.AWAITING_APPROVAL else self._rest
        if seconds > 0 and operation.id is not None:
            self._resting[operation.id] = self._clock() + seconds

    def wake(self) -> None:
        self._resting.clear()

    def failed(self, operation_id: int, delay: float) -> int:
        """Count one more temporary failure; the next try waits about `delay` * 2^(attempts - 1) seconds."""
        attempts = self._until.get(operation_id, (0.0, 0))[1] + 1
        wait = min(delay * 2 ** (attempts - 1), self._cap) * (1.0 - self._jitter * self._random())
        self._until[operation_id] = (self._clock() + wait, attempts)
        return attempts

    def retry_in(self, operation_id: int) -> float:
        """Seconds until the operation may be retried after its last temporary failure (0: now)."""
        return max(self._until.get(operation_id, (0.0, 0))[0] - self._clock(), 0.0)

    def clear(self, operation_id: int) -> None:
        self._until.pop(operation_id, None)


class InProcess:
    """The single-process default: every operation is this process's to drive."""

    @contextmanager
    def hold(self, operation_id: int) -> Iterator[bool]:
        yield True


def tick(ctx: Context, backoff: Backoff, locks: ports.OperationLocks | None = None) -> int:
    """One pass; returns how many steps were taken. Operations another replica holds are left to it."""
    with ctx.store.unit_of_work() as uow:
        claimed = 0
        while uow.operations.claim_next() is not None:
            claimed += 1
        uow.commit()
        active = uow.operations.active()
    if claimed:
        ctx.checkpoint("operation.claimed")
    held = locks or InProcess()
    steps = 0
    for op in active:
        if op.id is None or not backoff.ready(op.id):
            continue
        with held.hold(op.id) as mine:
            if mine:
                steps += _drive(ctx, op, backoff)
            else:
                backoff.waiting(op)  # another replica drives it; look again after a rest
    return steps


def _drive(ctx: Context, operation: Operation, backoff: Backoff) -> int:
    assert operation.id is not None
    steps = 0
    try:
        while steps < MAX_STEPS:
            with ctx.store.unit_of_work() as uow:
                fresh = uow.operations.get(operation.id)
            if fresh is None or not fresh.state.active:
                break
            steps += 1
            if not advancing.advance(ctx, fresh):
                backoff.waiting(fresh)
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
