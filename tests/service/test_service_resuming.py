"""Restarts: every step persisted before the next, and each external action found again, never repeated.

Each test crashes the worker right after an action succeeded and before its step was saved, then starts
a new Context on the same database and fakes, as a restarted process would.
"""

from __future__ import annotations

import pytest

from promobot.domain import trailers
from promobot.domain.operations import State, Step
from promobot.service import requests
from promobot.service.context import Context
from support.fakes import DEVELOPER, RELEASE_MANAGER, Crash, Crashable, World

Wired = tuple[Context, World]


def promotions(world: World, branch: str, operation_id: int | None) -> list[str]:
    repo = world.repos["web"]
    return [c.sha for c in repo.first_parent(branch) if c.trailers.get(trailers.OPERATION) == str(operation_id)]


def crash_then_restart(world: World, ctx: Context, fake: Crashable, method: str) -> Context:
    fake.crash_after.add(method)
    with pytest.raises(Crash):
        world.tick(ctx)
    return world.context(restart=True)


def test_a_restart_after_the_commit_and_tag_were_pushed_repeats_neither(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    repo = world.repos["web"]
    operation = requests.promote(ctx, DEVELOPER, dev.tag)

    ctx = crash_then_restart(world, ctx, repo, "push_tag")
    assert world.operation(ctx, operation.id).step is Step.REQUESTED  # the crash lost the step
    world.settle(ctx)

    resumed = world.operation(ctx, operation.id)
    assert resumed.step is Step.AWAITING_ARTIFACT
    assert promotions(world, "qa", operation.id) == [resumed.branch_commit]
    assert len(repo.created) == 1
    assert repo.tag_pushes == [resumed.target_tag]


def test_a_restart_after_the_pin_was_written_writes_no_second_pin_commit(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag)
    world.settle(ctx)
    world.builder.complete(ctx)
    pins = len(world.gitops.commits)

    ctx = crash_then_restart(world, ctx, world.gitops, "write_pin")
    assert world.operation(ctx, operation.id).step is Step.AWAITING_ARTIFACT
    world.settle(ctx)

    assert len(world.gitops.commits) == pins + 1
    world.report(ctx, "qa")
    assert world.operation(ctx, operation.id).state is State.SUCCEEDED


def test_a_restart_between_steps_repeats_no_commit_tag_or_pin(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    repo = world.repos["web"]
    operation = requests.promote(ctx, DEVELOPER, dev.tag)
    world.settle(ctx)
    state = world.git_state()

    ctx = world.context(restart=True)
    world.settle(ctx)
    assert world.git_state() == state

    world.builder.complete(ctx)
    world.settle(ctx)
    state = world.git_state()
    ctx = world.context(restart=True)
    world.settle(ctx)

    assert world.git_state() == state
    assert len(repo.created) == 1
    assert len([c for c in world.gitops.commits if c.env == "qa"]) == 1
    assert world.operation(ctx, operation.id).step is Step.DEPLOYING


def test_a_restart_after_the_pull_request_opened_opens_no_second_one(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag, "prod")

    ctx = crash_then_restart(world, ctx, world.forge, "open_pull_request")
    world.settle(ctx)

    waiting = world.operation(ctx, operation.id)
    assert (waiting.state, waiting.pr_number) == (State.AWAITING_APPROVAL, 1)
    assert len(world.forge.pulls) == 1
    assert len(world.repos["web"].created) == 1


def test_a_restart_after_the_merge_merges_once_and_still_tags(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    repo = world.repos["web"]
    operation = requests.promote(ctx, DEVELOPER, dev.tag, "prod")
    world.settle(ctx)
    requests.approve(ctx, RELEASE_MANAGER, operation.id or 0)

    ctx = crash_then_restart(world, ctx, world.forge, "merge_pull_request")
    world.settle(ctx)

    resumed = world.operation(ctx, operation.id)
    assert resumed.step is Step.AWAITING_ARTIFACT
    assert world.forge.merges == [1]
    assert repo.tags == {resumed.target_tag: resumed.branch_commit}
    assert promotions(world, "prod", operation.id) == [resumed.branch_commit]
