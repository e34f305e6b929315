"""Promoting an artifact one environment on: the git commit and tag, the build, the pin, the result."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from promobot.domain import trailers
from promobot.domain.operations import State, Step
from promobot.service import queries, requests, working
from promobot.service.context import Context
from support.fakes import DEVELOPER, World

Wired = tuple[Context, World]
Make = Callable[..., Wired]


def test_promote_without_an_environment_goes_to_the_next_one_and_ends_healthy(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    repo = world.repos["web"]
    qa_head = repo.branches["qa"]

    operation = requests.promote(ctx, DEVELOPER, f"web:{dev.tag}")
    assert (operation.env, operation.state, operation.target_tag) == ("qa", State.QUEUED, f"qa-{dev.tag[4:]}")
    world.settle(ctx)

    waiting = world.operation(ctx, operation.id)
    assert (waiting.state, waiting.step) == (State.RUNNING, Step.AWAITING_ARTIFACT)
    assert waiting.message == f"waiting for CI to build web:qa-{dev.tag[4:]}"
    promotion = repo.commit(repo.branches["qa"])
    assert promotion.sha == waiting.branch_commit
    assert promotion.tree == repo.commit(dev.source_revision).tree
    assert promotion.parents == (qa_head, dev.source_revision)
    assert promotion.trailers == {
        trailers.SOURCE: dev.source_revision,
        trailers.ARTIFACT: f"web:{dev.tag}",
        trailers.OPERATION: str(operation.id),
        trailers.KIND: "promote",
    }
    assert repo.tags == {waiting.target_tag: promotion.sha}
    assert world.builder.pending[-1].revision == promotion.sha
    assert ("qa", "web") not in world.gitops.pins

    built = world.builder.complete(ctx)
    world.settle(ctx)
    assert world.gitops.pins[("qa", "web")].digest == built.digest
    assert world.operation(ctx, operation.id).step is Step.DEPLOYING

    world.report(ctx, "qa")
    done = world.operation(ctx, operation.id)
    assert (done.state, done.message) == (State.SUCCEEDED, f"web:{waiting.target_tag} is healthy in qa")
    [deployment] = queries.history(ctx, "web", "qa")
    assert (deployment.source_revision, deployment.revision) == (dev.source_revision, promotion.sha)
    assert deployment.deployed_by == "developer"


def test_an_artifact_found_only_in_the_registry_is_still_pinned_when_its_build_event_was_lost(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag)
    world.settle(ctx)

    lost = world.builder.publish(world.builder.pending.pop())  # in the registry; intake never hears of it
    world.settle(ctx)

    assert world.gitops.pins[("qa", "web")].digest == lost.digest
    world.report(ctx, "qa")
    done = world.operation(ctx, operation.id)
    assert done.state is State.SUCCEEDED
    assert queries.history(ctx, "web", "qa")[0].revision == lost.revision


def test_a_promotion_reached_by_commit_sha_prefix_goes_the_same_way(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)

    done = world.promoted(ctx, dev.source_revision[:8], "qa")

    assert done.state is State.SUCCEEDED
    assert done.artifact == f"web:{dev.tag}"


def test_someone_pushing_first_makes_the_operation_retry_later_with_exactly_one_promotion_commit(
    wired: Wired, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    repo = world.repos["web"]
    repo.someone_pushes_first("qa")
    operation = requests.promote(ctx, DEVELOPER, dev.tag)

    world.tick(ctx)
    retrying = world.operation(ctx, operation.id)
    assert (retrying.state, retrying.step) == (State.RUNNING, Step.REQUESTED)
    assert repo.commit(repo.branches["qa"]).author == "someone"
    assert world.tick(ctx) == 0  # backing off
    assert repo.tags == {}

    later = time.monotonic() + 60
    monkeypatch.setattr(working, "time", SimpleNamespace(monotonic=lambda: later))
    world.settle(ctx)

    moved = world.operation(ctx, operation.id)
    assert moved.step is Step.AWAITING_ARTIFACT
    mine = [c for c in repo.first_parent("qa") if c.trailers.get(trailers.OPERATION) == str(operation.id)]
    assert [c.sha for c in mine] == [moved.branch_commit]
    assert mine[0].parents[0] == repo.first_parent("qa")[1].sha  # on top of the other person's commit
    assert repo.first_parent("qa")[1].author == "someone"
    assert repo.tags == {moved.target_tag: moved.branch_commit}


def test_the_artifact_timeout_fails_the_operation(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag)
    world.settle(ctx)
    world.clock.advance(minutes=9)
    world.settle(ctx)
    assert world.operation(ctx, operation.id).state is State.RUNNING

    world.clock.advance(minutes=2)
    world.settle(ctx)

    failed = world.operation(ctx, operation.id)
    assert failed.state is State.FAILED
    assert failed.message.startswith("gave up after 660s")
    assert ("qa", "web") not in world.gitops.pins


def test_the_artifact_timeout_message_names_the_artifact_that_did_not_appear(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag)
    world.settle(ctx)

    world.clock.advance(minutes=11)
    world.settle(ctx)

    failed = world.operation(ctx, operation.id)
    assert failed.state is State.FAILED
    assert f"no build of web:{operation.target_tag} appeared" in failed.message


def test_promoting_through_the_pipeline_reuses_the_source_and_names_each_environments_artifact(
    build: Make,
) -> None:
    ctx, world = build()
    dev = world.developed(ctx)

    qa = world.promoted(ctx, dev.tag, "qa")
    staging = world.promoted(ctx, f"web:{qa.target_tag}", "staging")

    short = dev.source_revision[:7]
    assert (qa.state, staging.state) == (State.SUCCEEDED, State.SUCCEEDED)
    assert (qa.target_tag, staging.target_tag) == (f"qa-{short}", f"staging-{short}")
    repo = world.repos["web"]
    assert repo.commit(repo.branches["staging"]).tree == repo.commit(dev.source_revision).tree
    rows = {r.env: (r.artifact, r.state) for r in queries.board(ctx)}
    assert rows == {
        "development": (f"web:dev-{short}", "healthy"),
        "qa": (f"web:qa-{short}", "healthy"),
        "staging": (f"web:staging-{short}", "healthy"),
        "prod": ("", "none"),
    }


def test_an_artifact_found_only_in_the_registry_can_be_promoted_onwards(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag)
    world.settle(ctx)
    world.builder.publish(world.builder.pending.pop())  # the build event was lost
    world.settle(ctx)
    world.report(ctx, "qa")

    onwards = requests.promote(ctx, DEVELOPER, f"web:{operation.target_tag}")

    assert (onwards.env, onwards.artifact) == ("staging", f"web:{operation.target_tag}")


def test_the_deployment_timeout_fails_an_operation_the_engine_never_reported_on(wired: Wired) -> None:
    ctx, world = wired
    world.push(ctx)
    world.builder.complete(ctx)
    world.settle(ctx)

    world.clock.advance(minutes=6)
    world.settle(ctx)

    [operation] = queries.recent(ctx)
    assert operation.state is State.FAILED
    assert operation.message.startswith("gave up after 360s: the engine reported no result")
    assert operation.message.endswith("(deploying)")
