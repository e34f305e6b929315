"""Rolling back: the previous healthy artifact pinned again at once, its tree restored, auto-deploy held."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from promobot.domain import errors, trailers
from promobot.domain.deployments import Health
from promobot.domain.events import ArtifactBuilt
from promobot.domain.operations import Kind, State, Step
from promobot.service import queries, requests, working
from promobot.service.context import Context
from support.fakes import DEVELOPER, World

Wired = tuple[Context, World]
IMAGE = "registry.example/web"


def two_healthy(ctx: Context, world: World) -> tuple[ArtifactBuilt, ArtifactBuilt]:
    return world.developed(ctx), world.developed(ctx)


def test_rollback_pins_the_newest_earlier_healthy_artifact_without_a_build(wired: Wired) -> None:
    ctx, world = wired
    older = world.developed(ctx)
    previous, current = world.developed(ctx), world.developed(ctx)
    builds = len(world.builder.submits)

    operation = requests.rollback(ctx, DEVELOPER, "web", "development")
    assert (operation.kind, operation.artifact) == (Kind.ROLLBACK, f"web:{previous.tag}")
    assert operation.message == (
        f"developer asked to roll development back from web:{current.tag} to web:{previous.tag}"
    )
    world.tick(ctx)

    assert world.gitops.pins[("development", "web")].digest == previous.digest
    assert len(world.builder.submits) == builds
    running = world.operation(ctx, operation.id)
    assert (running.state, running.step) == (State.RUNNING, Step.DEPLOYING)
    world.report(ctx, "development")
    done = world.operation(ctx, operation.id)
    assert (done.state, done.message) == (State.SUCCEEDED, f"web:{previous.tag} is healthy in development")
    newest = queries.history(ctx, "web", "development")[0]
    assert (newest.tag, newest.state, newest.operation_id) == (previous.tag, Health.HEALTHY, operation.id)
    assert older.tag != previous.tag


def test_rollback_restores_the_earlier_tree_on_the_branch_with_a_commit_of_one_parent(wired: Wired) -> None:
    ctx, world = wired
    previous, _ = two_healthy(ctx, world)
    repo = world.repos["web"]
    head = repo.branches["develop"]

    operation = requests.rollback(ctx, DEVELOPER, "web", "development")
    world.settle(ctx)

    restore = repo.commit(repo.branches["develop"])
    assert restore.sha == world.operation(ctx, operation.id).branch_commit
    assert restore.parents == (head,)
    assert restore.tree == repo.commit(previous.revision).tree
    assert restore.trailers[trailers.KIND] == "rollback"
    assert restore.trailers[trailers.OPERATION] == str(operation.id)


def test_a_rolled_back_auto_deploy_environment_stays_held_until_a_promote_into_it(wired: Wired) -> None:
    ctx, world = wired
    previous, newer = two_healthy(ctx, world)
    requests.rollback(ctx, DEVELOPER, f"web:{newer.tag}")
    world.settle(ctx)
    world.report(ctx, "development")
    operations = len(queries.recent(ctx))

    world.push(ctx)
    held = world.builder.complete(ctx)
    world.settle(ctx)

    assert len(queries.recent(ctx)) == operations  # the push was built but not deployed
    assert world.gitops.pins[("development", "web")].digest == previous.digest

    promote = world.promoted(ctx, f"web:{newer.tag}", "development")
    assert promote.state is State.SUCCEEDED
    world.push(ctx)
    after = world.builder.complete(ctx)
    world.settle(ctx)

    [deploy] = [op for op in queries.recent(ctx) if op.artifact == f"web:{after.tag}"]
    assert (deploy.kind, deploy.state, deploy.step) == (Kind.DEPLOY, State.RUNNING, Step.DEPLOYING)
    assert world.gitops.pins[("development", "web")].digest == after.digest
    assert held.tag not in [c.pin.tag for c in world.gitops.commits]


def test_rollback_is_refused_when_nothing_earlier_was_healthy(wired: Wired) -> None:
    ctx, world = wired
    only = world.developed(ctx)
    before = (queries.recent(ctx), world.git_state())

    with pytest.raises(errors.NothingToDo) as refused:
        requests.rollback(ctx, DEVELOPER, f"web:{only.tag}")

    assert refused.value.message == "development has no earlier healthy artifact of web to roll back to"
    assert refused.value.hint == "promote a known-good artifact instead"
    assert (queries.recent(ctx), world.git_state()) == before


def test_rollback_is_refused_when_the_earlier_image_is_gone_from_the_registry(wired: Wired) -> None:
    ctx, world = wired
    previous, _ = two_healthy(ctx, world)
    world.registry.delete(IMAGE, previous.digest)
    before = (queries.recent(ctx), world.git_state())

    with pytest.raises(errors.GateNotMet) as refused:
        requests.rollback(ctx, DEVELOPER, "web", "development")

    assert refused.value.message == (
        f"the earlier healthy artifacts of web in development are gone from the registry: web:{previous.tag}"
    )
    assert refused.value.hint == "promote a newer artifact instead"
    assert (queries.recent(ctx), world.git_state()) == before


def test_rollback_of_a_bare_app_needs_an_environment(wired: Wired) -> None:
    ctx, world = wired
    two_healthy(ctx, world)

    with pytest.raises(errors.InvalidReference) as refused:
        requests.rollback(ctx, DEVELOPER, "web")

    assert refused.value.hint == "write `rollback web ENV` with ENV one of: development, qa, staging, prod"


def test_rollback_to_the_image_the_engine_still_serves_succeeds_without_a_new_report(wired: Wired) -> None:
    ctx, world = wired
    good = world.developed(ctx)
    world.push(ctx)
    world.builder.complete(ctx)
    world.settle(ctx)
    world.report(ctx, "development", state=Health.DEGRADED, message="crash loop")
    world.engine.set_status("development", "web", good.digest, Health.HEALTHY)  # the old pods kept serving
    reports = len(world.notifier.deployments)

    operation = requests.rollback(ctx, DEVELOPER, "web", "development")
    world.settle(ctx)

    done = world.operation(ctx, operation.id)
    assert (done.state, done.message) == (State.SUCCEEDED, f"web:{good.tag} is healthy in development")
    assert queries.history(ctx, "web", "development")[0].state is Health.HEALTHY
    assert len(world.notifier.deployments) == reports + 2  # pinned, then healthy: read from engine.status


def test_rollback_is_refused_while_another_operation_moves_the_same_environment(wired: Wired) -> None:
    ctx, world = wired
    two_healthy(ctx, world)
    world.push(ctx)
    world.builder.complete(ctx)

    with pytest.raises(errors.GateNotMet, match="an operation on web in development is still in flight"):
        requests.rollback(ctx, DEVELOPER, "web", "development")


def test_rollback_skips_an_earlier_artifact_that_never_got_healthy(wired: Wired) -> None:
    ctx, world = wired
    good = world.developed(ctx)
    world.push(ctx)
    world.builder.complete(ctx)
    world.settle(ctx)
    world.report(ctx, "development", state=Health.FAILED)
    world.developed(ctx)

    operation = requests.rollback(ctx, DEVELOPER, "web", "development")

    assert operation.artifact == f"web:{good.tag}"
    assert operation.pinned_digest == good.digest


def test_a_report_arriving_while_the_branch_is_still_being_restored_still_finishes_the_rollback(
    wired: Wired, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, world = wired
    previous, _ = two_healthy(ctx, world)
    world.repos["web"].someone_pushes_first("develop")
    operation = requests.rollback(ctx, DEVELOPER, "web", "development")
    world.tick(ctx)
    assert world.operation(ctx, operation.id).step is Step.PINNED  # restoring the branch will be retried

    world.report(ctx, "development")
    assert world.operation(ctx, operation.id).state is State.RUNNING
    later = time.monotonic() + 60
    monkeypatch.setattr(working, "time", SimpleNamespace(monotonic=lambda: later))
    world.settle(ctx)

    done = world.operation(ctx, operation.id)
    assert (done.state, done.message) == (State.SUCCEEDED, f"web:{previous.tag} is healthy in development")


def test_a_push_built_while_a_rollback_is_queued_does_not_undo_the_rollback(wired: Wired) -> None:
    ctx, world = wired
    previous, _ = two_healthy(ctx, world)
    requests.rollback(ctx, DEVELOPER, "web", "development")
    world.push(ctx)
    world.builder.complete(ctx)  # before the worker took the rollback

    world.settle(ctx)
    world.report(ctx, "development")
    world.settle(ctx)

    assert world.gitops.pins[("development", "web")].digest == previous.digest


def test_a_second_rollback_goes_further_back_past_another_deployment_of_the_same_image(wired: Wired) -> None:
    ctx, world = wired
    oldest, middle = two_healthy(ctx, world)
    world.push(ctx)
    world.builder.complete(ctx)
    world.settle(ctx)
    world.report(ctx, "development", state=Health.FAILED)
    requests.rollback(ctx, DEVELOPER, "web", "development")
    world.settle(ctx)
    world.report(ctx, "development")
    assert world.gitops.pins[("development", "web")].digest == middle.digest

    again = requests.rollback(ctx, DEVELOPER, "web", "development")

    assert (again.artifact, again.pinned_digest) == (f"web:{oldest.tag}", oldest.digest)


def test_a_push_built_while_held_can_be_promoted_into_development_to_release_the_hold(wired: Wired) -> None:
    ctx, world = wired
    _, newer = two_healthy(ctx, world)
    requests.rollback(ctx, DEVELOPER, f"web:{newer.tag}")
    world.settle(ctx)
    world.report(ctx, "development")
    world.push(ctx)
    held = world.builder.complete(ctx)  # built, never deployed: it was never healthy anywhere
    world.settle(ctx)

    release = world.promoted(ctx, f"web:{held.tag}", "development")

    assert release.state is State.SUCCEEDED
    assert world.gitops.pins[("development", "web")].digest == held.digest
    world.push(ctx)
    after = world.builder.complete(ctx)
    world.settle(ctx)
    assert world.gitops.pins[("development", "web")].digest == after.digest  # auto-deploy is back
