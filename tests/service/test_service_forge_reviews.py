"""Promotions waiting on a hosted forge's pull request: reviews there count, the forge's own rule must hold,
and a pull request merged by a person is picked up."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from promobot.domain import trailers
from promobot.domain.operations import State, Step
from promobot.service import requests
from promobot.service.context import Context
from support.fakes import DEVELOPER, RELEASE_MANAGER, World

Wired = tuple[Context, World]
Make = Callable[..., Wired]


@pytest.fixture
def waiting(wired: Wired) -> tuple[Context, World, int]:
    ctx, world = wired
    ctx.forge_logins = {"rm-on-github": "release-manager", "dev-on-github": "developer"}
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag, "prod")
    world.settle(ctx)
    assert world.operation(ctx, operation.id).state is State.AWAITING_APPROVAL
    return ctx, world, operation.id or 0


def finish(ctx: Context, world: World, operation_id: int) -> State:
    world.settle(ctx)
    world.builder.complete(ctx)
    world.settle(ctx)
    world.report(ctx, "prod")
    world.settle(ctx)
    return world.operation(ctx, operation_id).state


def test_an_approving_review_by_a_release_manager_on_the_forge_moves_the_promotion_on(
    waiting: tuple[Context, World, int],
) -> None:
    ctx, world, operation_id = waiting
    world.forge.approve_on_forge(1, "rm-on-github")
    assert finish(ctx, world, operation_id) is State.SUCCEEDED
    assert world.forge.merges == [1]
    assert world.operation(ctx, operation_id).message.startswith("web:prod-")


@pytest.mark.parametrize("login", ["dev-on-github", "someone-unknown"])
def test_a_review_by_the_requester_or_by_an_unknown_login_does_not_count(
    waiting: tuple[Context, World, int], login: str
) -> None:
    ctx, world, operation_id = waiting
    world.forge.approve_on_forge(1, login)
    world.settle(ctx)
    still = world.operation(ctx, operation_id)
    assert (still.state, still.step) == (State.AWAITING_APPROVAL, Step.PR_OPEN)
    assert "0 of 1 approvals" in still.message
    assert world.forge.merges == []


def test_the_forges_own_required_count_holds_even_after_promobots_rule_is_met(
    waiting: tuple[Context, World, int],
) -> None:
    ctx, world, operation_id = waiting
    world.forge.required = 2
    requests.approve(ctx, RELEASE_MANAGER, operation_id)
    world.settle(ctx)
    held = world.operation(ctx, operation_id)
    assert held.state is State.AWAITING_APPROVAL
    assert "1 of 1 approvals (release-manager); 0 of 2 on the pull request" in held.message

    world.forge.approve_on_forge(1, "rm-on-github")
    world.forge.approve_on_forge(1, "another-reviewer")
    assert finish(ctx, world, operation_id) is State.SUCCEEDED


def test_with_merges_by_hand_an_approved_promotion_waits_for_a_person_then_goes_on(
    waiting: tuple[Context, World, int],
) -> None:
    ctx, world, operation_id = waiting
    ctx.merge_by_hand = True
    requests.approve(ctx, RELEASE_MANAGER, operation_id)
    world.settle(ctx)
    parked = world.operation(ctx, operation_id)
    assert (parked.state, parked.step) == (State.RUNNING, Step.APPROVED)
    assert parked.message.startswith("approved; waiting for someone to merge pull request #1")
    assert world.forge.merges == []

    world.forge.merge_by_a_person("web", 1)
    assert finish(ctx, world, operation_id) is State.SUCCEEDED
    repo = world.repos["web"]
    tagged = repo.tags[world.operation(ctx, operation_id).target_tag]
    assert repo.commit(tagged).trailers[trailers.OPERATION] == str(operation_id)


def test_a_pull_request_merged_on_the_forge_before_any_approval_is_picked_up(
    waiting: tuple[Context, World, int],
) -> None:
    ctx, world, operation_id = waiting
    world.forge.merge_by_a_person("web", 1)
    assert finish(ctx, world, operation_id) is State.SUCCEEDED
