"""Commands people give: promote, rollback, approve, cancel. Each is checked in full, then queued.

A refused command changes nothing. An accepted one becomes a durable operation the worker advances. Each
call, accepted or refused, is recorded in the audit log (`auditing.command`).
"""

from __future__ import annotations

from promobot.domain import audit, errors, gates, locks
from promobot.domain.artifacts import Artifact, artifact_tag, parse_ref
from promobot.domain.deployments import Deployment, Health
from promobot.domain.operations import Kind, Operation, State
from promobot.domain.people import User
from promobot.domain.pipeline import Environment
from promobot.service import approving, auditing, resolving
from promobot.service.context import Context

HISTORY_SCAN = 200


@auditing.command("promote")
def promote(ctx: Context, user: User, reference: str, env: str | None = None) -> Operation:
    ref = parse_ref(reference)
    with ctx.store.unit_of_work() as uow:
        artifact = resolving.artifact(uow, ctx.pipeline, ref)
        source = _source_env(ctx, artifact)
        target = ctx.pipeline.env(env) if env else ctx.pipeline.next_after(source)
        gates.may_change(user, target)
        gates.promotion_target(ctx.pipeline, source, target)
        if target != source:  # into its own environment it is a (re)deploy: nothing to have passed first
            gates.deployed_where_built(
                artifact, source, uow.deployments.history(artifact.app, source.name, limit=HISTORY_SCAN)
            )
        gates.not_already_there(artifact, target, uow.deployments.current(artifact.app, target.name))
        gates.not_in_flight(artifact, target, _pending(uow.operations.blocking(artifact.app, target.name)))
        waiting = locks.entering(target, uow.locks.get(target.name))
        operation = uow.operations.add(
            Operation(
                kind=Kind.PROMOTE,
                app=artifact.app,
                env=target.name,
                artifact=artifact.ref,
                requested_by=user.name,
                source_revision=artifact.source_revision,
                target_tag=artifact_tag(target.tag_prefix, artifact.source_revision),
                message=waiting or f"{user.name} asked to promote {artifact.ref} to {target.name}",
            )
        )
        uow.commit()
    ctx.notifier.operation_changed(operation)
    ctx.wake_worker()
    return operation


@auditing.command("rollback")
def rollback(ctx: Context, user: User, reference: str, env: str | None = None) -> Operation:
    ref = parse_ref(reference, allow_bare_app=True)
    with ctx.store.unit_of_work() as uow:
        if ref.app is not None and ref.tag is None and ref.env is None:
            app = ctx.pipeline.app(ref.app).name
            if env is None:
                raise errors.InvalidReference(
                    f"rolling back {app} needs an environment",
                    f"write `rollback {app} ENV` with ENV one of: {', '.join(ctx.pipeline.env_names)}",
                )
            target = ctx.pipeline.env(env)
        else:
            named = resolving.artifact(uow, ctx.pipeline, ref)
            app = named.app
            named_env = env or ref.env
            target = ctx.pipeline.env(named_env) if named_env else _source_env(ctx, named)
        gates.may_change(user, target, "roll back")
        current = uow.deployments.current(app, target.name)
        if current is None:
            raise errors.NothingToDo(f"{target.name} runs nothing for {app}; there is nothing to roll back")
        previous = _previous(ctx, uow.deployments.history(app, target.name, limit=HISTORY_SCAN), current)
        held = uow.locks.get(target.name) is not None  # promotions waiting on the lock do not block a rollback
        if [op for op in uow.operations.blocking(app, target.name) if not (held and _waits_for_lock(op))]:
            raise errors.GateNotMet(
                f"an operation on {app} in {target.name} is still in flight",
                "wait for it, or cancel it with `promobot cancel OPERATION`",
            )
        operation = uow.operations.add(
            Operation(
                kind=Kind.ROLLBACK,
                app=app,
                env=target.name,
                artifact=previous.artifact,
                requested_by=user.name,
                source_revision=previous.source_revision,
                target_tag=previous.tag,
                pinned_digest=previous.digest,
                message=f"{user.name} asked to roll {target.name} back from {current.artifact} to {previous.artifact}",
            )
        )
        uow.commit()
    ctx.notifier.operation_changed(operation)
    ctx.wake_worker()
    return operation


@auditing.command("approve", audit.APPROVAL)
def approve(ctx: Context, user: User, operation_id: int) -> Operation:
    with ctx.store.unit_of_work() as uow:
        operation = _get(uow.operations.get(operation_id), operation_id)
        env = ctx.pipeline.env(operation.env)
        gates.may_approve(user, operation, env)
        uow.approvals.add(operation_id, user.name)
        uow.commit()
    ctx.checkpoint("approve.recorded")
    moved = approving.settle(ctx, operation_id)
    if moved is not None:
        return moved
    with ctx.store.unit_of_work() as uow:
        return _get(uow.operations.get(operation_id), operation_id)


@auditing.command("cancel")
def cancel(ctx: Context, user: User, operation_id: int) -> Operation:
    with ctx.store.unit_of_work() as uow:
        operation = _get(uow.operations.get(operation_id), operation_id)
        if operation.state not in (State.QUEUED, State.AWAITING_APPROVAL):
            raise errors.GateNotMet(
                f"operation {operation_id} is {operation.state}; only queued or waiting ones can be cancelled"
            )
        if user.name != operation.requested_by:
            gates.may_change(user, ctx.pipeline.env(operation.env), "cancel operations")
        operation = uow.operations.save(operation.move(State.CANCELLED, message=f"cancelled by {user.name}"))
        uow.commit()
    ctx.notifier.operation_changed(operation)
    return operation


def _get(operation: Operation | None, operation_id: int) -> Operation:
    if operation is None:
        raise errors.UnknownOperation(f"no operation {operation_id}", "see recent ones with `promobot list`")
    return operation


def _source_env(ctx: Context, artifact: Artifact) -> Environment:
    env = ctx.pipeline.env_by_prefix(artifact.prefix)
    if env is None:
        raise errors.UnknownArtifact(
            f"{artifact.ref} carries a tag prefix no environment uses",
            f"promote artifacts tagged {', '.join(e.tag_prefix + '-…' for e in ctx.pipeline.environments)}",
        )
    return env


def _waits_for_lock(operation: Operation) -> bool:
    return operation.state is State.QUEUED and operation.kind is not Kind.ROLLBACK


def _pending(operations: list[Operation]) -> list[Operation]:
    return [op for op in operations if op.kind is not Kind.ROLLBACK]


def _previous(ctx: Context, history: list[Deployment], current: Deployment) -> Deployment:
    """The newest healthy deployment before `current` of a different image that the registry still has."""
    image = ctx.pipeline.app(current.app).image
    missing: list[str] = []
    for deployment in history:
        if deployment.id == current.id or deployment.state is not Health.HEALTHY:
            continue
        if deployment.digest == current.digest or (current.id and (deployment.id or 0) > current.id):
            continue
        if not ctx.registry.exists(image, deployment.digest):
            missing.append(deployment.artifact)
            continue
        return deployment
    if missing:
        raise errors.GateNotMet(
            f"the earlier healthy artifacts of {current.app} in {current.env} are gone from the registry: "
            f"{', '.join(missing)}",
            "promote a newer artifact instead",
        )
    raise errors.NothingToDo(
        f"{current.env} has no earlier healthy artifact of {current.app} to roll back to",
        "promote a known-good artifact instead",
    )
