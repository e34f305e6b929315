"""The one message each operation owns (updated in place), its thread replies, and the caller's receipt."""

from __future__ import annotations

from promobot import ports
from promobot.domain import errors
from promobot.domain.operations import Kind, Operation, OperationEvent, State, Step
from promobot.domain.pipeline import Pipeline
from promobot.messages.blocks import Block, actions, button, context, escape, message, section

ICON = {
    State.QUEUED: ":inbox_tray:",
    State.RUNNING: ":hourglass_flowing_sand:",
    State.AWAITING_APPROVAL: ":raised_hand:",
    State.SUCCEEDED: ":white_check_mark:",
    State.FAILED: ":x:",
    State.CANCELLED: ":no_entry_sign:",
}
STEP = {
    Step.REQUESTED: "requested",
    Step.PR_OPEN: "pull request open, awaiting approval",
    Step.APPROVED: "approved, merging",
    Step.BRANCH_UPDATED: "branch updated",
    Step.AWAITING_ARTIFACT: "building",
    Step.PINNED: "pinned",
    Step.DEPLOYING: "deploying",
    Step.DONE: "done",
}
VERB = {Kind.PROMOTE: "Promote", Kind.ROLLBACK: "Roll back to", Kind.DEPLOY: "Deploy"}


def phase(operation: Operation) -> str:
    """What a person would call where the operation stands: `building`, `succeeded`, ..."""
    if operation.state in (State.RUNNING, State.AWAITING_APPROVAL) and operation.step is not Step.DONE:
        return STEP[operation.step]
    return operation.state.value.replace("_", " ")


def title(operation: Operation) -> str:
    return f"{VERB[operation.kind]} {operation.artifact} → {operation.env}"


def operation(op: Operation, pipeline: Pipeline) -> ports.ChatMessage:
    """The operation's own message: state and step, artifact, env, requester, pull request, message, buttons."""
    who = f"requested by {op.requested_by}" if op.kind is not Kind.DEPLOY else f"pushed by {op.requested_by}"
    pull = f"PR <{op.pr_url}|#{op.pr_number}>" if op.pr_url and op.pr_number else ""
    lines = [f"{ICON[op.state]} *{escape(title(op))}* — {phase(op)}"]
    if op.message:
        lines.append(escape(op.message))
    blocks: list[Block] = [
        section("\n".join(lines)),
        context(
            f"operation #{op.id}", escape(who), pull, f"approved by {', '.join(op.approvers)}" if op.approvers else ""
        ),
        *actions(*_buttons(op, pipeline)),
    ]
    text_pull = f" · pull request #{op.pr_number} {op.pr_url}" if op.pr_url else ""
    text = f"[{phase(op)}] {title(op)} (operation #{op.id}, {who}{text_pull})" + (
        f"\n  {op.message}" if op.message else ""
    )
    return message(text, blocks)


def step(event: OperationEvent) -> ports.ChatMessage:
    """One line in the operation's thread for each change: where it went (queued, started, a step, the end)."""
    if event.state.finished or event.state is State.QUEUED:
        label = event.state.value
    elif event.state is State.RUNNING and event.step is Step.REQUESTED:
        label = "started"
    else:
        label = event.step.value
    text = f"{label.replace('_', ' ')}: {event.message}" if event.message else label.replace("_", " ")
    return message(text, [context(f"{ICON[event.state]} {escape(text)}")])


def started(op: Operation, channel: str = "") -> ports.ChatMessage:
    """The caller's receipt for an accepted command."""
    where = f"; follow it in <#{channel}>" if channel.startswith("C") else ""
    text = f"operation #{op.id} started: {title(op)}"
    return message(text, [section(f":rocket: {escape(text)}{where}")])


def status(op: Operation, events: list[OperationEvent], pipeline: Pipeline) -> ports.ChatMessage:
    """`/promobot status N`: the operation's message and every step it took."""
    head = operation(op, pipeline)
    lines = [f"{e.at:%H:%M:%S} {e.state.value:<17} {e.step.value:<17} {e.message}" for e in events]
    shown = lines[-30:]
    more = [f"… {len(lines) - len(shown)} earlier step(s)"] if len(lines) > len(shown) else []
    body = "\n".join([*more, *shown])
    blocks = [*head.blocks, section(f"```{escape(body)}```")] if body else list(head.blocks)
    return message(head.text + ("\n" + body if body else ""), blocks)


def _buttons(op: Operation, pipeline: Pipeline) -> list[Block]:
    app, env = op.app, op.env
    after = _next(pipeline, env)
    found: list[Block] = []
    if op.state is State.AWAITING_APPROVAL and op.id is not None:
        found.append(button("Approve", "approve", f"approve {op.id}", "primary"))
    if op.state is State.SUCCEEDED and after and op.kind is not Kind.ROLLBACK and op.target_tag:
        found.append(button(f"Promote to {after}", "promote", f"promote {app}:{op.target_tag} {after}", "primary"))
    if op.state in (State.SUCCEEDED, State.FAILED):
        found.append(button("Rollback", "rollback", f"rollback {app} {env}", "danger"))
    compare = (env, after) if after else (_previous(pipeline, env), env)
    if compare[0] and compare[1]:
        found.append(button("View diff", "diff", f"diff {compare[0]} {compare[1]} {app}"))
    return found


def _next(pipeline: Pipeline, env: str) -> str:
    try:
        return pipeline.next_after(pipeline.env(env)).name
    except errors.PromobotError:
        return ""


def _previous(pipeline: Pipeline, env: str) -> str:
    names = pipeline.env_names
    index = names.index(env) if env in names else 0
    return names[index - 1] if index > 0 else ""
