"""Events from the world: pushes, builds, deployment results and pull request changes, as webhooks deliver them.

Each handler is safe to call twice with the same event (deliveries are retried), and returns what the event
became, in a few words for the audit log. An auto-deploy into a locked environment waits for the unlock
(`when_locked: wait`) or is skipped (`refuse`; the next push after the unlock deploys).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from promobot import ports
from promobot.domain import errors, locks
from promobot.domain.artifacts import Artifact
from promobot.domain.deployments import Deployment, Health
from promobot.domain.events import ArtifactBuilt, BranchPushed, DeploymentReported, Event, PullRequestChanged
from promobot.domain.operations import Kind, Operation, State, Step
from promobot.domain.pipeline import WhenLocked
from promobot.service import advancing, approving
from promobot.service.context import Context

log = structlog.get_logger(__name__)


def handle(ctx: Context, event: Event) -> str:
    if isinstance(event, BranchPushed):
        return pushed(ctx, event)
    if isinstance(event, ArtifactBuilt):
        return built(ctx, event)
    if isinstance(event, PullRequestChanged):
        return pull_request_changed(ctx, event)
    return reported(ctx, event)


def pull_request_changed(ctx: Context, event: PullRequestChanged) -> str:
    """A review, merge or push on a pull request: settle the promotion waiting on it now, not at the next poll."""
    ctx.pipeline.app(event.app)
    with ctx.store.unit_of_work() as uow:
        waiting = [op for op in uow.operations.active() if op.app == event.app and op.pr_number == event.number]
    for operation in waiting:
        if operation.state is State.AWAITING_APPROVAL and operation.id is not None:
            approving.settle(ctx, operation.id)
    ctx.wake_worker()  # a person's merge lets an approved promotion waiting for it go on
    ids = ", ".join(str(op.id) for op in waiting)
    settled = f"settled operation {ids}" if ids else "nothing waits on it"
    return f"pull request #{event.number} of {event.app}: {settled}"


def pushed(ctx: Context, event: BranchPushed) -> str:
    ctx.pipeline.app(event.app)
    env = ctx.pipeline.env_by_branch(event.branch)
    if env is None or ctx.builder is None or set(event.after) == {"0"}:
        return f"push to {event.app} {event.branch}: nothing to build"
    ctx.builder.submit(app=event.app, branch=event.branch, revision=event.after)
    return f"push to {event.app} {event.branch}: build of {event.after[:7]} submitted"


def built(ctx: Context, event: ArtifactBuilt) -> str:
    ctx.pipeline.app(event.app)
    env = ctx.pipeline.env_by_prefix(event.tag.rsplit("-", 1)[0])
    with ctx.store.unit_of_work() as uow:
        artifact = uow.artifacts.add(
            Artifact(event.app, event.tag, event.digest, event.source_revision, event.revision)
        )
        operation = None
        became = f"artifact {artifact.ref} recorded"
        lock = uow.locks.get(env.name) if env is not None and env.auto_deploy else None
        if env is not None and lock is not None and env.when_locked is WhenLocked.REFUSE:
            log.info("auto-deploy skipped: the environment is locked", env=env.name, artifact=artifact.ref)
            became += f"; auto-deploy skipped: {locks.describe(lock)}"
        elif env is not None and env.auto_deploy:
            operation = _auto_deploy(ctx, uow, artifact, env.name, lock)
        uow.commit()
    log.info("artifact recorded", artifact=artifact.ref, digest=artifact.digest[:19])
    if operation is not None:
        ctx.notifier.operation_changed(operation)
        became += f"; auto-deploy operation {operation.id} {operation.state}"
    ctx.wake_worker()
    return became


def _auto_deploy(
    ctx: Context, uow: ports.UnitOfWork, artifact: Artifact, env: str, lock: locks.Lock | None = None
) -> Operation | None:
    if uow.holds.get(artifact.app, env) is not None:
        log.info("auto-deploy held by a rollback", app=artifact.app, env=env, artifact=artifact.ref)
        return None
    current = uow.deployments.current(artifact.app, env)
    if current is not None and current.digest == artifact.digest:
        return None
    pending = uow.operations.blocking(artifact.app, env)
    if any(op.kind is Kind.ROLLBACK for op in pending):
        log.info("auto-deploy skipped: a rollback is on its way", app=artifact.app, env=env, artifact=artifact.ref)
        return None
    if any(op.kind is Kind.DEPLOY and op.source_revision == artifact.source_revision for op in pending):
        return None
    for older in pending:  # a newer push supersedes auto-deploys still waiting their turn
        if older.kind is Kind.DEPLOY and older.state is State.QUEUED:
            uow.operations.save(older.move(State.CANCELLED, message=f"superseded by {artifact.ref}"))
    author = _author(ctx, artifact.app, artifact.revision)
    return uow.operations.add(
        Operation(
            kind=Kind.DEPLOY,
            app=artifact.app,
            env=env,
            artifact=artifact.ref,
            requested_by=author or "push",
            source_revision=artifact.source_revision,
            target_tag=artifact.tag,
            step=Step.AWAITING_ARTIFACT,
            message=locks.waiting_message(lock) if lock else f"auto-deploying {artifact.ref} to {env}",
        )
    )


def _author(ctx: Context, app: str, revision: str) -> str:
    """Who wrote the commit an auto-deploy comes from (the mirror may not have fetched it yet)."""
    repo = ctx.repo(app)
    for attempt in range(2):
        try:
            return repo.commit(revision).author
        except errors.PromobotError:
            if attempt == 0:
                repo.refresh()
    return ""


@dataclass(frozen=True)
class Applied:
    """What a deployment report changed in its transaction; `after_report` does the rest once it commits."""

    became: str
    deployment: Deployment | None = None  # None: nothing changed
    operation: Operation | None = None


def reported(ctx: Context, event: DeploymentReported) -> str:
    with ctx.store.unit_of_work() as uow:
        [applied] = apply_reports(ctx, uow, [event])
        if applied.deployment is not None:
            uow.commit()
    after_report(ctx, event, applied)
    return applied.became


def apply_reports(ctx: Context, uow: ports.UnitOfWork, events: Sequence[DeploymentReported]) -> list[Applied]:
    """Each report's effect, in order, inside the caller's unit of work (not committed here): one read of
    the deployments they name, one write of those that changed, one read of the operations behind those."""
    for event in events:
        ctx.pipeline.app(event.app)
        ctx.pipeline.env(event.env)
    current = uow.deployments.current_of({(event.app, event.env) for event in events})
    at = ctx.clock.now()
    decided = [_decide(current.get((event.app, event.env)), event, at) for event in events]
    changed = {each.id: each for _, each in decided if each is not None}
    saved = {each.id: each for each in uow.deployments.save_all(changed.values())}
    behind = {each.operation_id for each in saved.values() if each.operation_id is not None}
    operations = {op.id: op for op in uow.operations.many(behind)} if behind else {}
    applied = []
    for became, deployment in decided:
        stored = saved[deployment.id] if deployment is not None else None
        operation = operations.get(stored.operation_id) if stored is not None and stored.operation_id else None
        applied.append(Applied(became, stored, operation))
    return applied


def _decide(current: Deployment | None, event: DeploymentReported, at: datetime) -> tuple[str, Deployment | None]:
    """What the report says of (app, env)'s newest deployment: a few words, and the deployment when it
    changed (changed in place, so a later report of the same pair in the same batch sees it)."""
    if current is None or current.digest != event.digest:
        log.info("deployment report for an image promobot did not pin", env=event.env, app=event.app)
        return f"{event.app} in {event.env} {event.state}: not an image promobot pinned; ignored", None
    if current.state is event.state and (current.url == event.url or not event.url):
        return f"deployment {current.id} of {current.artifact} in {event.env}: still {event.state}", None
    if event.state is Health.PROGRESSING and current.state.finished:
        return f"deployment {current.id} of {current.artifact} in {event.env}: already {current.state}", None
    advancing.record_health(current, event.state, url=event.url, message=event.message, at=at)
    return f"deployment {current.id} of {current.artifact} in {event.env}: {event.state}", current


def after_report(ctx: Context, event: DeploymentReported, applied: Applied) -> None:
    """Once the report's transaction committed: tell who listens, finish the operation it ends, wake the worker.

    The worker is woken only for a deployment some operation made: no operation waits on any other, and a
    burst of reports would otherwise keep the worker scanning the operations table between them.
    """
    current, operation = applied.deployment, applied.operation
    if current is None:
        return
    ctx.notifier.deployment_changed(current)
    if operation is None:
        return
    if event.state.finished and operation.state is State.RUNNING and operation.step is Step.DEPLOYING:
        advancing.finish(ctx, operation, current)
    ctx.wake_worker()
