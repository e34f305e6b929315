"""The audit log from the use cases' side: commands and approvals as given, accepted or refused, and reading it.

`@auditing.command("promote")` on a use case `(ctx, user, *args)` records one entry per call: the command
as given, by whom, and its outcome (the operation it became, or the refusal's text). Inside the call the
user is the actor of every operation change it causes (see `recording`). Operation changes and webhook
deliveries are recorded by `recording` and `delivering`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from promobot.domain import audit, errors
from promobot.domain.locks import Lock, describe
from promobot.domain.operations import Operation
from promobot.domain.people import User
from promobot.service import recording
from promobot.service.context import Context

P = ParamSpec("P")
R = TypeVar("R")
UseCase = Callable[Concatenate[Context, User, P], R]


def record(ctx: Context, entry: audit.Entry) -> audit.Entry:
    """Append one entry in a transaction of its own."""
    with ctx.store.unit_of_work() as uow:
        stored = uow.audit.append(entry)
        uow.commit()
    return stored


def command(verb: str, action: str = audit.COMMAND) -> Callable[[UseCase[P, R]], UseCase[P, R]]:
    """Record every call of the decorated use case, accepted or refused, as `verb ARGS...` by the user."""

    def decorate(use_case: UseCase[P, R]) -> UseCase[P, R]:
        def run(ctx: Context, user: User, /, *args: P.args, **kwargs: P.kwargs) -> R:
            words = [str(arg) for arg in (*args, *kwargs.values()) if arg is not None and arg != ""]
            subject = " ".join([verb, *words])
            with recording.acting_as(user.name):
                try:
                    result = use_case(ctx, user, *args, **kwargs)
                except errors.PromobotError as exc:
                    record(ctx, audit.Entry(user.name, action, subject, audit.REFUSED, str(exc)))
                    raise
            detail, operation_id = _outcome(result)
            record(ctx, audit.Entry(user.name, action, subject, audit.ACCEPTED, detail, operation_id))
            return result

        functools.update_wrapper(run, use_case)
        return run

    return decorate


def _outcome(result: object) -> tuple[str, int | None]:
    if isinstance(result, Operation):
        return f"operation {result.id} {result.state}: {result.message}", result.id
    if isinstance(result, Lock):
        return describe(result), None
    return "", None


def entries(
    ctx: Context, *, actor: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[audit.Entry], bool]:
    """The newest entries (of one actor), skipping `offset`; and whether older ones follow."""
    with ctx.store.unit_of_work() as uow:
        found = uow.audit.recent(actor=actor, limit=limit + 1, offset=offset)
    return found[:limit], len(found) > limit
