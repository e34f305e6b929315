"""Release freeze: an environment locked by someone, and what a promotion into it meets. Pure decisions.

A locked environment takes no promotions or auto-deploys: per its `when_locked` they are refused at once
or queued to wait until it is unlocked. Rollbacks still go in, for the people allowed to roll back there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from promobot.domain import errors
from promobot.domain.gates import roles_text
from promobot.domain.people import User
from promobot.domain.pipeline import Environment, WhenLocked


@dataclass(frozen=True)
class Lock:
    env: str
    by: str
    reason: str
    at: datetime


def describe(lock: Lock) -> str:
    """`qa is locked by alice since 2024-05-01 12:00 UTC (release 4.2)`."""
    reason = f" ({lock.reason})" if lock.reason else ""
    return f"{lock.env} is locked by {lock.by} since {lock.at:%Y-%m-%d %H:%M} UTC{reason}"


def waiting_message(lock: Lock) -> str:
    return f"waiting: {describe(lock)}"


def may_lock(user: User, env: Environment, verb: str = "lock") -> None:
    if not user.has_any(env.lock_roles):
        raise errors.NotAllowed(
            f"{user.name} may not {verb} {env.name}", f"that takes one of the roles: {roles_text(env.lock_roles)}"
        )


def not_locked_yet(env: Environment, lock: Lock | None) -> None:
    if lock is not None:
        raise errors.NothingToDo(describe(lock), f"unlock it first with `/unlock {env.name}` to change the reason")


def locked(env: Environment, lock: Lock | None) -> Lock:
    if lock is None:
        raise errors.NothingToDo(f"{env.name} is not locked")
    return lock


def entering(env: Environment, lock: Lock | None, what: str = "promotions") -> str | None:
    """What a promotion (or auto-deploy) into `env` meets: None (go on), a waiting message, or a refusal."""
    if lock is None:
        return None
    if env.when_locked is WhenLocked.WAIT:
        return waiting_message(lock)
    raise errors.GateNotMet(
        f"{describe(lock)}; {what} into it are refused",
        f"try again once it is unlocked (`/unlock {env.name}`), or roll back if something is broken",
    )
