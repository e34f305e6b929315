"""Operations: every command becomes one, with a state a person sees and a step the worker resumes from.

`state` is what people and tools read (queued, running, awaiting_approval, succeeded, failed, cancelled).
`step` is where the worker stands inside `running`; each step is persisted before the next begins, so a
restart resumes without repeating a finished one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from promobot.domain import errors


class Kind(StrEnum):
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    DEPLOY = "deploy"  # an auto-deploy nobody asked for in chat (a push to `develop`)


class State(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (State.SUCCEEDED, State.FAILED, State.CANCELLED)

    @property
    def active(self) -> bool:
        return self in (State.RUNNING, State.AWAITING_APPROVAL)


class Step(StrEnum):
    REQUESTED = "requested"
    PR_OPEN = "pr_open"  # promotion branch pushed, pull request open, waiting for approvals
    APPROVED = "approved"  # approvals met; merge next
    BRANCH_UPDATED = "branch_updated"  # target branch holds the promotion commit and tag
    AWAITING_ARTIFACT = "awaiting_artifact"
    PINNED = "pinned"  # GitOps pin written
    DEPLOYING = "deploying"
    DONE = "done"


ALLOWED: dict[State, frozenset[State]] = {
    State.QUEUED: frozenset({State.RUNNING, State.CANCELLED, State.FAILED}),
    State.RUNNING: frozenset({State.AWAITING_APPROVAL, State.SUCCEEDED, State.FAILED, State.CANCELLED}),
    State.AWAITING_APPROVAL: frozenset({State.RUNNING, State.FAILED, State.CANCELLED}),
    State.SUCCEEDED: frozenset(),
    State.FAILED: frozenset(),
    State.CANCELLED: frozenset(),
}


@dataclass
class Operation:
    kind: Kind
    app: str
    env: str
    artifact: str  # the artifact asked for, `app:tag`
    requested_by: str
    source_revision: str = ""
    target_tag: str = ""  # the tag the target environment's artifact carries
    state: State = State.QUEUED
    step: Step = Step.REQUESTED
    message: str = ""
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    branch_commit: str = ""  # the promotion or restore commit on the environment branch
    pr_number: int | None = None
    pr_url: str = ""
    pinned_digest: str = ""
    deployment_id: int | None = None
    approvers: list[str] = field(default_factory=list)
    chat_channel: str = ""  # the chat message reporting this operation (written only by the reporter)
    chat_ts: str = ""

    def move(self, state: State, *, step: Step | None = None, message: str | None = None) -> Operation:
        """Return this operation in `state`; refuse a transition the state machine does not allow."""
        if self.state.finished or (state is not self.state and state not in ALLOWED[self.state]):
            raise errors.InvalidTransition(
                f"operation {self.id} is {self.state}; it cannot become {state}",
                "only queued, running or waiting operations can change",
            )
        return replace(
            self,
            state=state,
            step=step if step is not None else self.step,
            message=message if message is not None else self.message,
        )

    def at(self, step: Step, message: str | None = None) -> Operation:
        return self.move(self.state, step=step, message=message)


@dataclass(frozen=True)
class OperationEvent:
    """One persisted change of an operation: its audit trail and its live feed."""

    operation_id: int
    state: State
    step: Step
    message: str
    at: datetime
