"""The worker's use case: move each running operation one step, persisting before the next.

Steps of a promotion: requested → (pr_open → approved →) branch_updated → awaiting_artifact → pinned →
deploying → done. A rollback: requested → pinned (at once, no rebuild) → branch restored → deploying.
An auto-deploy starts at awaiting_artifact. Every external action is idempotent, so a crash between an
action and its persisted step repeats nothing.
"""

from __future__ import annotations

from datetime import datetime

from promobot import ports
from promobot.domain import errors
from promobot.domain.approvals import Decision, waiting_message
from promobot.domain.artifacts import Artifact
from promobot.domain.deployments import Deployment, Health, Hold, Pin
from promobot.domain.operations import Kind, Operation, State, Step
from promobot.service import approving, promoting
from promobot.service.context import Context

RESYNC = "asked the engine to sync again"  # the start of the message each re-sent sync request leaves


def advance(ctx: Context, operation: Operation) -> bool:
    """Take one step; True when the operation moved (call again), False when it waits on the world."""
    handler = STEPS.get((operation.kind, operation.step))
    if handler is None:
        return False
    return handler(ctx, operation)


def _save(ctx: Context, operation: Operation, deployment: Deployment | None = None) -> Operation:
    with ctx.store.unit_of_work() as uow:
        stored = uow.operations.get(operation.id or 0)
        if stored is not None and stored.state.finished:
            return stored  # cancelled meanwhile: keep what the person asked for
        if deployment is not None:
            deployment = uow.deployments.add(deployment)
            operation.deployment_id = deployment.id
        operation = uow.operations.save(operation)
        uow.commit()
    ctx.notifier.operation_changed(operation)
    if deployment is not None:
        ctx.notifier.deployment_changed(deployment)
    return operation


def _requested(ctx: Context, operation: Operation) -> bool:
    target = ctx.pipeline.env(operation.env)
    repo = ctx.repo(operation.app)
    if target.approval.required:
        sha, pull = promoting.open_pull_request(repo, ctx.forge, operation, target, checkpoint=ctx.checkpoint)
        ctx.checkpoint("promote.pr_opened")
        operation.branch_commit, operation.pr_number, operation.pr_url = sha, pull.number, pull.url
        _save(
            ctx,
            operation.move(
                State.AWAITING_APPROVAL,
                step=Step.PR_OPEN,
                message=waiting_message(operation.id, pull.number, target, Decision([], 0, 0, 0)),
            ),
        )
        return False
    operation.branch_commit = promoting.direct(repo, operation, target, checkpoint=ctx.checkpoint)
    ctx.checkpoint("promote.branch_pushed")
    _save(ctx, operation.at(Step.BRANCH_UPDATED, f"{target.branch} now holds {operation.source_revision[:7]}"))
    return True


def _pr_open(ctx: Context, operation: Operation) -> bool:
    """Waiting for approval: read the forge's reviews and promobot's approvals; go on when both rules are met."""
    moved = approving.settle(ctx, operation.id or 0)
    return moved is not None and moved.state is State.RUNNING


def _approved(ctx: Context, operation: Operation) -> bool:
    target = ctx.pipeline.env(operation.env)
    merged = promoting.merge(
        ctx.repo(operation.app), ctx.forge, operation, target, by_hand=ctx.merge_by_hand, checkpoint=ctx.checkpoint
    )
    if merged is None:
        waiting = f"approved; waiting for someone to merge pull request #{operation.pr_number}"
        if operation.message != waiting:
            _save(ctx, operation.at(Step.APPROVED, f"{waiting}: {operation.pr_url}"))
        return False
    operation.branch_commit = merged
    ctx.checkpoint("promote.merged")
    _save(ctx, operation.at(Step.BRANCH_UPDATED, f"pull request #{operation.pr_number} merged into {target.branch}"))
    return True


def _branch_updated(ctx: Context, operation: Operation) -> bool:
    if ctx.builder is not None and operation.branch_commit:
        # A merge moves the branch without a push, so no push hook fires: ask the builder directly.
        # It reuses an existing tag of the same source, so a second request costs nothing.
        branch = ctx.pipeline.env(operation.env).branch
        ctx.builder.submit(app=operation.app, branch=branch, revision=operation.branch_commit)
        ctx.checkpoint("promote.build_requested")
    _save(ctx, operation.at(Step.AWAITING_ARTIFACT, f"waiting for CI to build {operation.app}:{operation.target_tag}"))
    return True


def _awaiting_artifact(ctx: Context, operation: Operation) -> bool:
    image = ctx.pipeline.app(operation.app).image
    with ctx.store.unit_of_work() as uow:
        artifact = uow.artifacts.get(operation.app, operation.target_tag)
    if artifact is None or artifact.source_revision != operation.source_revision:
        found = ctx.registry.get(image, operation.target_tag)
        if found is None:
            _time_out(
                ctx,
                operation,
                ctx.timeouts.artifact.total_seconds(),
                f"no build of {operation.app}:{operation.target_tag} appeared; check CI for "
                f"{ctx.pipeline.env(operation.env).branch}",
            )
            return False
        digest, revision = found.digest, found.labels.get("org.opencontainers.image.revision", "")
        with ctx.store.unit_of_work() as uow:  # its build event was lost: record it as the event would have
            uow.artifacts.add(
                Artifact(operation.app, operation.target_tag, digest, operation.source_revision, revision)
            )
            uow.commit()
    else:
        digest, revision = artifact.digest, artifact.revision
    if operation.kind is Kind.DEPLOY and _held(ctx, operation):
        return False
    _pin(ctx, operation, digest, revision, Step.DEPLOYING, f"pinned {operation.app}:{operation.target_tag}; deploying")
    return True


def _pin(ctx: Context, operation: Operation, digest: str, revision: str, step: Step, message: str) -> None:
    """Pin `digest` in GitOps, move the environment's hold, record the deployment with `step`, ask for a sync.

    The fault points are `deploy.*` (a promotion or an auto-deploy) or `rollback.*`.
    """
    faults = "rollback" if operation.kind is Kind.ROLLBACK else "deploy"
    pin = Pin(image=ctx.pipeline.app(operation.app).image, tag=operation.target_tag, digest=digest)
    ctx.gitops.write_pin(operation.env, operation.app, pin, message=_pin_message(operation))
    ctx.checkpoint(f"{faults}.pin_written")
    with ctx.store.unit_of_work() as uow:
        if operation.kind is Kind.PROMOTE:  # a promotion releases a rollback's hold; an auto-deploy never does
            uow.holds.clear(operation.app, operation.env)
        elif operation.kind is Kind.ROLLBACK and ctx.pipeline.env(operation.env).auto_deploy:
            hold = Hold(operation.app, operation.env, operation.target_tag, operation.requested_by, ctx.clock.now())
            uow.holds.set(hold)  # an auto-deploy environment stays on it until the next promotion
        uow.commit()
    operation.pinned_digest = digest
    _save(ctx, operation.at(step, message), _deployment(operation, digest, revision))
    ctx.checkpoint(f"{faults}.recorded")
    ctx.engine.sync(operation.env, operation.app)


def _held(ctx: Context, operation: Operation) -> bool:
    """An auto-deploy that finds its environment held by a rollback ends without pinning."""
    with ctx.store.unit_of_work() as uow:
        hold = uow.holds.get(operation.app, operation.env)
    if hold is None:
        return False
    _save(
        ctx,
        operation.move(
            State.CANCELLED,
            message=f"not deployed: {operation.env} is held on {operation.app}:{hold.tag} by {hold.by}'s rollback; "
            f"promote an artifact into {operation.env} to release it",
        ),
    )
    return True


def _rollback_pin(ctx: Context, operation: Operation) -> bool:
    image = ctx.pipeline.app(operation.app).image
    if not ctx.registry.exists(image, operation.pinned_digest):
        raise errors.PermanentError(f"{operation.artifact} ({operation.pinned_digest[:19]}) is gone from the registry")
    with ctx.store.unit_of_work() as uow:
        built = uow.artifacts.get(operation.app, operation.target_tag)
    revision = built.revision if built else operation.source_revision
    message = f"pinned {operation.artifact} again; restoring its tree on the branch"
    _pin(ctx, operation, operation.pinned_digest, revision, Step.PINNED, message)
    return True


def _rollback_branch(ctx: Context, operation: Operation) -> bool:
    target = ctx.pipeline.env(operation.env)
    with ctx.store.unit_of_work() as uow:
        built = uow.artifacts.get(operation.app, operation.target_tag)
    tree_of = built.revision if built and built.revision else operation.source_revision
    operation.branch_commit = promoting.commit_onto(
        ctx.repo(operation.app), operation, target.branch, tree_of=tree_of, merge=False
    )
    ctx.checkpoint("rollback.branch_pushed")
    _save(ctx, operation.at(Step.DEPLOYING, f"{target.branch} restored to {operation.artifact}'s tree; deploying"))
    return True


def _deploying(ctx: Context, operation: Operation) -> bool:
    with ctx.store.unit_of_work() as uow:
        deployment = uow.deployments.get(operation.deployment_id) if operation.deployment_id else None
    if deployment is not None and deployment.state.finished:
        finish(ctx, operation, deployment)
        return False
    live = ctx.engine.status(operation.env, operation.app)
    if deployment is not None and live is not None and live.digest == deployment.digest and live.state.finished:
        # The engine already runs it (a rollback to what kept serving), or its report was lost.
        record_health(deployment, live.state, url=live.url, message=deployment.message, at=ctx.clock.now())
        with ctx.store.unit_of_work() as uow:
            deployment = uow.deployments.save(deployment)
            uow.commit()
        ctx.notifier.deployment_changed(deployment)
        finish(ctx, operation, deployment)
        return False
    if deployment is not None and live is not None and live.digest != deployment.digest:
        _resync(ctx, operation, deployment, live)
        return False
    _time_out(
        ctx,
        operation,
        ctx.timeouts.deployment.total_seconds(),
        f"the engine reported no result for {operation.app}:{operation.target_tag}",
    )
    return False


def _resync(ctx: Context, operation: Operation, deployment: Deployment, live: ports.LiveStatus) -> None:
    """The engine still runs another digest than the pin: its sync request may have been lost (the engine was
    unreachable, or never applied it). Ask again once `timeouts.resync` passed since the last change, at most
    `timeouts.resyncs` times (each one an operation change, so a restart keeps the count); then fail."""
    if operation.updated_at is None or ctx.clock.now() - operation.updated_at < ctx.timeouts.resync:
        return
    with ctx.store.unit_of_work() as uow:
        events = uow.operations.events(operation.id or 0)
    asked = sum(1 for e in events if e.step is Step.DEPLOYING and e.message.startswith(RESYNC))
    running = live.digest[:19] if live.digest else "no image"
    where = f"{operation.app} in {operation.env}"
    if asked >= ctx.timeouts.resyncs:
        fail(
            ctx,
            operation,
            f"the engine still runs {running} for {where}, not the pinned {deployment.artifact} "
            f"({deployment.digest[:19]}), after {asked + 1} sync requests; check that the engine is up, reaches "
            f"the GitOps repository and that its application for {where} follows it, then promote again",
        )
        return
    try:
        ctx.engine.sync(operation.env, operation.app)
        outcome = f"it still runs {running}"
    except errors.TemporaryError as exc:  # counted all the same: the next try comes after the same rest
        outcome = f"it still runs {running}; the request failed: {exc}"
    attempt = f"{RESYNC} ({asked + 1} of {ctx.timeouts.resyncs}) for {deployment.artifact}: {outcome}"
    _save(ctx, operation.at(Step.DEPLOYING, attempt))


def record_health(deployment: Deployment, state: Health, *, url: str, message: str, at: datetime) -> Deployment:
    """What the engine says of a deployment (its report, or its live status) written onto the record."""
    deployment.state = state
    deployment.url = url or deployment.url
    deployment.message = message
    if state.finished:
        deployment.finished_at = at
    return deployment


def finish(ctx: Context, operation: Operation, deployment: Deployment) -> Operation:
    """End the operation with its deployment's result."""
    if deployment.state is Health.HEALTHY:
        where = f" at {deployment.url}" if deployment.url else ""
        return _save(
            ctx,
            operation.move(
                State.SUCCEEDED, step=Step.DONE, message=f"{deployment.artifact} is healthy in {operation.env}{where}"
            ),
        )
    detail = f": {deployment.message}" if deployment.message else ""
    return _save(
        ctx,
        operation.move(
            State.FAILED, step=Step.DONE, message=f"{deployment.artifact} {deployment.state} in {operation.env}{detail}"
        ),
    )


def fail(ctx: Context, operation: Operation, message: str) -> Operation:
    return _save(ctx, operation.move(State.FAILED, message=message))


def _time_out(ctx: Context, operation: Operation, seconds: float, what: str) -> None:
    if operation.updated_at is None:
        return
    waited = (ctx.clock.now() - operation.updated_at).total_seconds()
    if waited > seconds:
        fail(ctx, operation, f"gave up after {int(waited)}s: {what} ({operation.step})")


def _deployment(operation: Operation, digest: str, revision: str) -> Deployment:
    return Deployment(
        app=operation.app,
        env=operation.env,
        tag=operation.target_tag,
        digest=digest,
        source_revision=operation.source_revision,
        revision=revision,
        state=Health.PROGRESSING,
        deployed_by=operation.requested_by,
        operation_id=operation.id,
    )


def _pin_message(operation: Operation) -> str:
    return promoting.message(operation, f"Pin {operation.app}:{operation.target_tag} in {operation.env}")


STEPS = {
    (Kind.PROMOTE, Step.REQUESTED): _requested,
    (Kind.PROMOTE, Step.PR_OPEN): _pr_open,
    (Kind.PROMOTE, Step.APPROVED): _approved,
    (Kind.PROMOTE, Step.BRANCH_UPDATED): _branch_updated,
    (Kind.PROMOTE, Step.AWAITING_ARTIFACT): _awaiting_artifact,
    (Kind.PROMOTE, Step.DEPLOYING): _deploying,
    (Kind.DEPLOY, Step.REQUESTED): _branch_updated,
    (Kind.DEPLOY, Step.AWAITING_ARTIFACT): _awaiting_artifact,
    (Kind.DEPLOY, Step.DEPLOYING): _deploying,
    (Kind.ROLLBACK, Step.REQUESTED): _rollback_pin,
    (Kind.ROLLBACK, Step.PINNED): _rollback_branch,
    (Kind.ROLLBACK, Step.DEPLOYING): _deploying,
}
