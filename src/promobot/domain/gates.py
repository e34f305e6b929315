"""Who may do what, and the gates a promotion or rollback must pass. Pure decisions: raise or return."""

from __future__ import annotations

from collections.abc import Sequence

from promobot.domain import errors
from promobot.domain.artifacts import Artifact
from promobot.domain.deployments import Deployment, Health
from promobot.domain.operations import Operation, State
from promobot.domain.people import User
from promobot.domain.pipeline import Environment, Pipeline


def roles_text(roles: frozenset[str]) -> str:
    return ", ".join(sorted(roles)) or "(nobody)"


def may_change(user: User, env: Environment, verb: str = "promote") -> None:
    if not user.has_any(env.promoters):
        raise errors.NotAllowed(
            f"{user.name} may not {verb} into {env.name}",
            f"that takes one of the roles: {roles_text(env.promoters)}",
        )


def may_approve(user: User, operation: Operation, env: Environment) -> None:
    if operation.state is not State.AWAITING_APPROVAL:
        raise errors.GateNotMet(
            f"operation {operation.id} is {operation.state}, not waiting for approval",
            f"see `promobot status {operation.id}`",
        )
    if user.name == operation.requested_by:
        raise errors.NotAllowed(
            f"{user.name} requested operation {operation.id} and cannot approve it",
            f"someone else with one of the roles {roles_text(env.approval.approvers)} must approve",
        )
    if not user.has_any(env.approval.approvers):
        raise errors.NotAllowed(
            f"{user.name} may not approve promotions into {env.name}",
            f"that takes one of the roles: {roles_text(env.approval.approvers)}",
        )
    if user.name in operation.approvers:
        raise errors.NothingToDo(f"{user.name} already approved operation {operation.id}")


def promotion_target(pipeline: Pipeline, source: Environment, target: Environment) -> None:
    if pipeline.position(target) < pipeline.position(source):
        raise errors.GateNotMet(
            f"{target.name} comes before {source.name}; promotions move forward",
            f"to go back to an earlier artifact use `promobot rollback`, or promote a {target.tag_prefix} one",
        )


def deployed_where_built(artifact: Artifact, source: Environment, history: Sequence[Deployment]) -> None:
    """The artifact must have deployed successfully in the environment that built it."""
    if not any(d.tag == artifact.tag and d.state is Health.HEALTHY for d in history):
        raise errors.GateNotMet(
            f"{artifact.ref} has not deployed successfully in {source.name}",
            f"promote an artifact that is healthy in {source.name} (see `promobot list`)",
        )


def not_already_there(artifact: Artifact, target: Environment, current: Deployment | None) -> None:
    if (
        current is not None
        and current.source_revision == artifact.source_revision
        and current.state in (Health.HEALTHY, Health.PROGRESSING)
    ):
        raise errors.NothingToDo(
            f"{target.name} already runs {current.artifact}, built from the same source as {artifact.ref}",
            "promote a newer artifact, or roll back instead",
        )


def not_in_flight(artifact: Artifact, target: Environment, pending: Sequence[Operation]) -> None:
    for operation in pending:
        if operation.source_revision == artifact.source_revision:
            raise errors.NothingToDo(
                f"operation {operation.id} is already moving {artifact.source_revision[:7]} into {target.name}",
                f"follow it with `promobot status {operation.id}`",
            )
