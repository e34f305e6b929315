"""Approval of a promotion waiting on its pull request: promobot's approvals and the forge's, read together."""

from __future__ import annotations

from promobot import ports
from promobot.domain.approvals import Decision, decide, waiting_message
from promobot.domain.operations import Operation, State, Step
from promobot.service.context import Context


def review(ctx: Context, operation: Operation, chat_approvals: list[str]) -> tuple[Decision, ports.ReviewState]:
    """Where the approval of `operation` stands now (reads the forge's review state once)."""
    state = ctx.forge.review_state(operation.app, operation.pr_number or 0)
    decision = decide(
        env=ctx.pipeline.env(operation.env),
        requester=operation.requested_by,
        chat_approvals=chat_approvals,
        forge_approvals=state.approvals,
        forge_required=state.required,
        people_by_login=ctx.people_by_login(),
    )
    return decision, state


def settle(ctx: Context, operation_id: int) -> Operation | None:
    """Read the approvals of a waiting promotion and move it on when both rules are met.

    Returns the operation when its state or message changed, else None. The forge is read outside any
    database transaction.
    """
    with ctx.store.unit_of_work() as uow:
        operation = uow.operations.get(operation_id)
        chat = uow.approvals.of(operation_id)
    if operation is None or operation.state is not State.AWAITING_APPROVAL:
        return None
    decision, state = review(ctx, operation, chat)
    if state.merged:
        moved = operation.move(State.RUNNING, step=Step.APPROVED, message="merged on the forge; tagging")
    elif decision.approved:
        moved = operation.move(
            State.RUNNING, step=Step.APPROVED, message=f"approved by {', '.join(decision.approvers)}; merging"
        )
    else:
        env = ctx.pipeline.env(operation.env)
        moved = operation.at(operation.step, message=waiting_message(operation.id, operation.pr_number, env, decision))
    if moved.state is operation.state and moved.message == operation.message:
        return None
    with ctx.store.unit_of_work() as uow:
        current = uow.operations.get(operation_id)
        if current is None or current.state is not State.AWAITING_APPROVAL:
            return None  # cancelled or moved meanwhile
        saved = uow.operations.save(moved)
        uow.commit()
    if saved.state is State.RUNNING:
        ctx.checkpoint("approve.settled")
    ctx.notifier.operation_changed(saved)
    ctx.wake_worker()
    return saved
