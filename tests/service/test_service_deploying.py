"""A push to develop: build, auto-deploy into development, and the engine's report closing the loop."""

from __future__ import annotations

from promobot.domain.deployments import Health
from promobot.domain.events import DeploymentReported
from promobot.domain.operations import Kind, State, Step
from promobot.service import intake, queries
from promobot.service.context import Context
from support.fakes import World

Wired = tuple[Context, World]


def test_a_push_to_develop_ends_healthy_in_development_once_the_engine_reports_healthy(wired: Wired) -> None:
    ctx, world = wired
    sha = world.push(ctx)
    assert [(b.app, b.branch, b.revision) for b in world.builder.submits] == [("web", "develop", sha)]

    built = world.builder.complete(ctx)
    assert built.tag == f"dev-{sha[:7]}"
    [queued] = queries.recent(ctx)
    assert (queued.kind, queued.state, queued.artifact) == (Kind.DEPLOY, State.QUEUED, f"web:dev-{sha[:7]}")
    assert queued.requested_by == "developer"  # the commit's author

    world.settle(ctx)
    deploying = world.operation(ctx, queued.id)
    assert (deploying.state, deploying.step) == (State.RUNNING, Step.DEPLOYING)
    assert world.gitops.pins[("development", "web")].digest == built.digest
    assert world.engine.syncs == [("development", "web")]

    world.report(ctx, "development", url="http://127.0.0.1:8001")
    done = world.operation(ctx, queued.id)
    assert done.state is State.SUCCEEDED
    assert done.message == f"web:dev-{sha[:7]} is healthy in development at http://127.0.0.1:8001"
    [row] = [r for r in queries.board(ctx) if r.env == "development"]
    assert (row.artifact, row.state, row.source_revision) == (f"web:dev-{sha[:7]}", "healthy", sha)
    [deployment] = queries.history(ctx, "web", "development")
    assert (deployment.state, deployment.digest, deployment.operation_id) == (Health.HEALTHY, built.digest, queued.id)


def test_a_report_for_a_digest_promobot_never_pinned_changes_nothing(wired: Wired) -> None:
    ctx, world = wired
    world.push(ctx)
    world.builder.complete(ctx)
    world.settle(ctx)
    before = (queries.recent(ctx), queries.history(ctx, "web", "development"), len(world.notifier.deployments))

    intake.reported(ctx, DeploymentReported("development", "web", "sha256:" + "f" * 64, Health.HEALTHY))

    assert (queries.recent(ctx), queries.history(ctx, "web", "development"), len(world.notifier.deployments)) == before
    assert queries.recent(ctx)[0].state is State.RUNNING


def test_a_repeated_build_event_does_not_deploy_twice(wired: Wired) -> None:
    ctx, world = wired
    world.push(ctx)
    event = world.builder.complete(ctx)
    world.settle(ctx)

    intake.built(ctx, event)
    world.settle(ctx)

    assert len(queries.recent(ctx)) == 1
    assert len(world.gitops.commits) == 1


def test_a_failed_deployment_fails_the_operation_with_the_engines_words(wired: Wired) -> None:
    ctx, world = wired
    world.push(ctx)
    world.builder.complete(ctx)
    world.settle(ctx)

    world.report(ctx, "development", state=Health.DEGRADED, message="readiness probe failed")

    [operation] = queries.recent(ctx)
    assert operation.state is State.FAILED
    assert operation.message.endswith("degraded in development: readiness probe failed")


def test_a_newer_develop_push_cancels_a_still_queued_older_auto_deploy(wired: Wired) -> None:
    ctx, world = wired
    world.push(ctx)
    world.builder.complete(ctx)
    world.settle(ctx)  # the first one is deploying, waiting for the engine
    world.push(ctx)
    second = world.builder.complete(ctx)  # queued behind the first
    world.push(ctx)
    third = world.builder.complete(ctx)

    first_op, second_op, third_op = reversed(queries.recent(ctx))
    assert (first_op.state, first_op.step) == (State.RUNNING, Step.DEPLOYING)
    assert second_op.state is State.CANCELLED
    assert second_op.message == f"superseded by web:{third.tag}"
    assert third_op.state is State.QUEUED

    world.report(ctx, "development")
    world.settle(ctx)
    assert world.gitops.pins[("development", "web")].tag == third.tag
    assert second.tag not in [c.pin.tag for c in world.gitops.commits]
