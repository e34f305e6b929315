"""Converting operations and their events between domain objects and table rows.

`approvers` is not a column: it is read from the approvals table by the repository. `chat_channel` and
`chat_ts` are read here but written only by `set_chat_message`, so a worker saving a stale copy of an
operation never erases the chat message id the reporter stored meanwhile.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from promobot.domain.operations import Kind, Operation, OperationEvent, State, Step

# Every column of `operations` but `id`, `created_at` and `updated_at`, which the repository sets.
FIELDS = (
    "kind",
    "app",
    "env",
    "artifact",
    "requested_by",
    "source_revision",
    "target_tag",
    "state",
    "step",
    "message",
    "branch_commit",
    "pr_number",
    "pr_url",
    "pinned_digest",
    "deployment_id",
)


def to_row(operation: Operation) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(operation, name) for name in FIELDS}
    for name in ("kind", "state", "step"):
        values[name] = str(values[name])
    return values


def from_row(row: Row[Any], approvers: list[str]) -> Operation:
    return Operation(
        kind=Kind(row.kind),
        app=row.app,
        env=row.env,
        artifact=row.artifact,
        requested_by=row.requested_by,
        source_revision=row.source_revision,
        target_tag=row.target_tag,
        state=State(row.state),
        step=Step(row.step),
        message=row.message,
        id=row.id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        branch_commit=row.branch_commit,
        pr_number=row.pr_number,
        pr_url=row.pr_url,
        pinned_digest=row.pinned_digest,
        deployment_id=row.deployment_id,
        approvers=approvers,
        chat_channel=row.chat_channel,
        chat_ts=row.chat_ts,
    )


def event_from_row(row: Row[Any]) -> OperationEvent:
    return OperationEvent(
        operation_id=row.operation_id,
        state=State(row.state),
        step=Step(row.step),
        message=row.message,
        at=row.at,
    )
