"""Release freeze: lock and unlock an environment, and list the locks.

Locking does not stop what already runs. Promotions and auto-deploys queued into a locked environment wait
(their message says so) until it is unlocked; `when_locked: refuse` environments refuse new ones at once.
"""

from __future__ import annotations

from promobot.domain import locks
from promobot.domain.locks import Lock
from promobot.domain.operations import Kind, State
from promobot.domain.people import User
from promobot.service import auditing
from promobot.service.context import Context


@auditing.command("lock")
def lock(ctx: Context, user: User, env: str, reason: str = "") -> Lock:
    target = ctx.pipeline.env(env)
    locks.may_lock(user, target)
    placed = Lock(env=target.name, by=user.name, reason=reason.strip()[:500], at=ctx.clock.now())
    with ctx.store.unit_of_work() as uow:
        locks.not_locked_yet(target, uow.locks.get(target.name))
        if not uow.locks.add(placed):
            locks.not_locked_yet(target, uow.locks.get(target.name) or placed)  # locked by someone just now
        waiting = []
        for app in ctx.pipeline.app_names:  # what is queued there already waits too, and says so
            for operation in uow.operations.blocking(app, target.name):
                if operation.state is State.QUEUED and operation.kind is not Kind.ROLLBACK:
                    waiting.append(uow.operations.save(operation.at(operation.step, locks.waiting_message(placed))))
        uow.commit()
    for operation in waiting:
        ctx.notifier.operation_changed(operation)
    return placed


@auditing.command("unlock")
def unlock(ctx: Context, user: User, env: str) -> Lock:
    target = ctx.pipeline.env(env)
    locks.may_lock(user, target, "unlock")
    with ctx.store.unit_of_work() as uow:
        removed = locks.locked(target, uow.locks.remove(target.name))
        uow.commit()
    ctx.wake_worker()  # promotions waiting for the lock go on now
    return removed


def current(ctx: Context) -> list[Lock]:
    """Every lock, by environment in pipeline order."""
    with ctx.store.unit_of_work() as uow:
        found = {lock.env: lock for lock in uow.locks.all()}
    return [found[name] for name in ctx.pipeline.env_names if name in found]
