"""Promotions into prod: a pull request, approvals by someone else with the right role, then the merge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from promobot.domain import errors, trailers
from promobot.domain.operations import State, Step
from promobot.domain.people import User
from promobot.service import promoting, queries, requests
from promobot.service.context import Context
from support import fakes
from support.fakes import DEVELOPER, RELEASE_MANAGER, USERS, World

Wired = tuple[Context, World]
Make = Callable[..., Wired]
TESTER = User("tester", frozenset({"developer"}))


@pytest.fixture
def wired(build: Make) -> Wired:
    return build(users={**USERS, TESTER.name: TESTER})


def test_a_promotion_into_prod_waits_for_approval_with_a_pull_request(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    repo = world.repos["web"]
    prod_head = repo.branches["prod"]

    operation = requests.promote(ctx, DEVELOPER, dev.tag, "prod")
    world.settle(ctx)

    waiting = world.operation(ctx, operation.id)
    assert (waiting.state, waiting.step) == (State.AWAITING_APPROVAL, Step.PR_OPEN)
    assert waiting.message == (
        f"pull request #1 open; needs 1 approval(s) from release-manager: `promobot approve {operation.id}`"
    )
    [pull] = world.forge.pulls
    assert (pull.base, pull.branch, pull.head_sha) == (
        "prod",
        promoting.promotion_branch(waiting),
        waiting.branch_commit,
    )
    assert (waiting.pr_number, waiting.pr_url) == (pull.number, pull.url)
    assert repo.branches["prod"] == prod_head  # untouched until merged
    proposed = repo.commit(pull.head_sha)
    assert proposed.parents == (prod_head, dev.source_revision)
    assert proposed.tree == repo.commit(dev.source_revision).tree
    assert repo.tags == {}
    assert [r.operation.id for r in queries.board(ctx) if r.env == "prod" and r.operation] == [operation.id]
    assert [op.id for op in queries.waiting_for(ctx)] == [operation.id]


def test_the_requester_may_not_approve_their_own_promotion(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag, "prod")
    world.settle(ctx)

    with pytest.raises(errors.NotAllowed) as refused:
        requests.approve(ctx, DEVELOPER, operation.id or 0)

    assert refused.value.message == f"developer requested operation {operation.id} and cannot approve it"
    assert refused.value.hint == "someone else with one of the roles release-manager must approve"
    assert world.operation(ctx, operation.id).state is State.AWAITING_APPROVAL


def test_someone_without_the_approver_role_may_not_approve(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag, "prod")
    world.settle(ctx)

    with pytest.raises(errors.NotAllowed) as refused:
        requests.approve(ctx, TESTER, operation.id or 0)

    assert refused.value.message == "tester may not approve promotions into prod"
    assert refused.value.hint == "that takes one of the roles: release-manager"
    still = world.operation(ctx, operation.id)
    assert (still.state, still.approvers) == (State.AWAITING_APPROVAL, [])


def test_a_release_managers_approval_merges_tags_builds_pins_and_succeeds(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    repo = world.repos["web"]
    operation = requests.promote(ctx, DEVELOPER, dev.tag, "prod")
    world.settle(ctx)
    proposed = world.operation(ctx, operation.id).branch_commit

    approved = requests.approve(ctx, RELEASE_MANAGER, operation.id or 0)
    assert (approved.state, approved.step) == (State.RUNNING, Step.APPROVED)
    assert approved.message == "approved by release-manager; merging"
    assert approved.approvers == ["release-manager"]
    world.settle(ctx)

    assert world.forge.pulls[0].merged
    assert repo.branches["prod"] == proposed
    assert repo.tags == {f"prod-{dev.source_revision[:7]}": proposed}
    assert promoting.promotion_branch(approved) not in repo.branches
    assert world.operation(ctx, operation.id).step is Step.AWAITING_ARTIFACT

    built = world.builder.complete(ctx)
    assert (built.tag, built.revision) == (f"prod-{dev.source_revision[:7]}", proposed)
    world.settle(ctx)
    assert world.gitops.pins[("prod", "web")].digest == built.digest
    world.report(ctx, "prod")

    done = world.operation(ctx, operation.id)
    assert (done.state, done.message) == (State.SUCCEEDED, f"web:{built.tag} is healthy in prod")
    promotions = [c for c in repo.first_parent("prod") if c.trailers.get(trailers.OPERATION) == str(operation.id)]
    assert len(promotions) == 1


def test_a_second_approval_is_refused(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag, "prod")
    world.settle(ctx)
    requests.approve(ctx, RELEASE_MANAGER, operation.id or 0)

    with pytest.raises(errors.GateNotMet) as refused:
        requests.approve(ctx, RELEASE_MANAGER, operation.id or 0)

    assert refused.value.message == f"operation {operation.id} is running, not waiting for approval"
    assert world.operation(ctx, operation.id).approvers == ["release-manager"]


def test_approving_an_operation_that_does_not_exist_names_where_to_look(wired: Wired) -> None:
    ctx, _ = wired

    with pytest.raises(errors.UnknownOperation) as refused:
        requests.approve(ctx, RELEASE_MANAGER, 99)

    assert (refused.value.message, refused.value.hint) == ("no operation 99", "see recent ones with `promobot list`")


def test_with_two_approvals_needed_the_same_person_cannot_approve_twice(build: Make) -> None:
    ops_lead = User("ops-lead", frozenset({"release-manager"}))
    envs = list(fakes.ENVS)
    envs[-1] = replace(envs[-1], approval=replace(envs[-1].approval, approvals=2))
    ctx, world = build(envs=envs, users={**USERS, ops_lead.name: ops_lead})
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag, "prod")
    world.settle(ctx)

    first = requests.approve(ctx, RELEASE_MANAGER, operation.id or 0)
    assert first.state is State.AWAITING_APPROVAL
    assert first.message.startswith("pull request #1: 1 of 2 approvals (release-manager); approvers: release-manager")
    with pytest.raises(errors.NothingToDo, match=f"release-manager already approved operation {operation.id}"):
        requests.approve(ctx, RELEASE_MANAGER, operation.id or 0)
    second = requests.approve(ctx, ops_lead, operation.id or 0)

    assert (second.state, second.step) == (State.RUNNING, Step.APPROVED)
    assert second.approvers == ["release-manager", "ops-lead"]
