"""Gates a promotion, rollback or approval must pass, and the words a refusal uses."""

from __future__ import annotations

import pytest

from promobot.domain import errors, gates
from promobot.domain.artifacts import Artifact
from promobot.domain.deployments import Deployment, Health
from promobot.domain.operations import Kind, Operation, State
from promobot.domain.people import SYSTEM, User
from promobot.domain.pipeline import App, Approval, ApprovalRule, Environment, Pipeline

SOURCE = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
OTHER = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"

DEV = Environment("development", "develop", "dev", auto_deploy=True, promoters=frozenset({"developer"}))
QA = Environment("qa", "qa", "qa", promoters=frozenset({"developer", "tester"}))
PROD = Environment(
    "prod",
    "main",
    "prod",
    approval=Approval(ApprovalRule.PULL_REQUEST, 1, frozenset({"release-manager", "cto"})),
    promoters=frozenset({"release-manager"}),
)
PIPELINE = Pipeline(environments=(DEV, QA, PROD), apps=(App("web", "git/web.git", "web"),))

ALICE = User("alice", frozenset({"developer"}))
BOB = User("bob", frozenset({"release-manager"}))
CAROL = User("carol", frozenset({"release-manager", "developer"}))

ARTIFACT = Artifact("web", "dev-1a2b3c4", "sha256:" + "a" * 64, SOURCE, SOURCE)


def _deployment(tag: str, state: Health, source: str = SOURCE, env: str = "development") -> Deployment:
    return Deployment("web", env, tag, "sha256:" + "b" * 64, source, source, state=state)


def _waiting(requested_by: str = "alice", approvers: list[str] | None = None) -> Operation:
    return Operation(
        Kind.PROMOTE,
        "web",
        "prod",
        "web:qa-1a2b3c4",
        requested_by,
        SOURCE,
        state=State.AWAITING_APPROVAL,
        id=12,
        approvers=approvers or [],
    )


def test_a_user_with_a_promoter_role_may_change_the_environment() -> None:
    gates.may_change(ALICE, QA)
    gates.may_change(CAROL, PROD, "roll back")


def test_a_user_without_a_promoter_role_is_refused_with_the_roles_that_would_do() -> None:
    with pytest.raises(errors.NotAllowed) as caught:
        gates.may_change(ALICE, PROD, "roll back")
    assert str(caught.value) == "alice may not roll back into prod; that takes one of the roles: release-manager"
    assert caught.value.http_status == 403


def test_an_environment_nobody_may_change_says_so() -> None:
    locked = Environment("frozen", "frozen", "frz")
    with pytest.raises(errors.NotAllowed, match=r"\(nobody\)"):
        gates.may_change(CAROL, locked)


def test_the_system_actor_holds_no_roles() -> None:
    with pytest.raises(errors.NotAllowed):
        gates.may_change(SYSTEM, DEV)


def test_someone_else_with_an_approver_role_may_approve_a_waiting_operation() -> None:
    gates.may_approve(BOB, _waiting(), PROD)
    gates.may_approve(BOB, _waiting(approvers=["carol"]), PROD)


@pytest.mark.parametrize("state", [s for s in State if s is not State.AWAITING_APPROVAL])
def test_an_operation_not_waiting_for_approval_cannot_be_approved(state: State) -> None:
    operation = _waiting()
    operation.state = state
    with pytest.raises(errors.GateNotMet) as caught:
        gates.may_approve(BOB, operation, PROD)
    assert f"operation 12 is {state}, not waiting for approval" in str(caught.value)
    assert "promobot status 12" in str(caught.value)


def test_the_requester_cannot_approve_their_own_promotion() -> None:
    with pytest.raises(errors.NotAllowed) as caught:
        gates.may_approve(BOB, _waiting(requested_by="bob"), PROD)
    assert "bob requested operation 12 and cannot approve it" in str(caught.value)
    assert "someone else with one of the roles cto, release-manager" in str(caught.value)


def test_a_user_without_an_approver_role_cannot_approve() -> None:
    with pytest.raises(errors.NotAllowed) as caught:
        gates.may_approve(ALICE, _waiting(requested_by="carol"), PROD)
    assert "alice may not approve promotions into prod" in str(caught.value)
    assert "cto, release-manager" in str(caught.value)


def test_approving_twice_is_nothing_to_do() -> None:
    with pytest.raises(errors.NothingToDo, match="bob already approved operation 12"):
        gates.may_approve(BOB, _waiting(approvers=["bob"]), PROD)


def test_promoting_forward_passes_even_when_skipping_environments() -> None:
    gates.promotion_target(PIPELINE, DEV, QA)
    gates.promotion_target(PIPELINE, DEV, PROD)


@pytest.mark.parametrize(("source", "target"), [(QA, DEV), (PROD, QA), (PROD, DEV)])
def test_promoting_backwards_is_refused_and_points_at_rollback(source: Environment, target: Environment) -> None:
    with pytest.raises(errors.GateNotMet) as caught:
        gates.promotion_target(PIPELINE, source, target)
    assert f"{target.name} comes before {source.name}; promotions move forward" in str(caught.value)
    assert "promobot rollback" in str(caught.value)


def test_promoting_into_the_environment_that_built_the_artifact_is_allowed_as_a_redeploy() -> None:
    # `promote web:qa-1a2b3c4 qa` re-pins an earlier qa artifact (and releases a rollback's hold); the
    # not_already_there gate still refuses it when qa already runs that source.
    gates.promotion_target(PIPELINE, QA, QA)


def test_an_artifact_healthy_where_it_was_built_passes() -> None:
    history = [_deployment("dev-0000000", Health.FAILED), _deployment("dev-1a2b3c4", Health.HEALTHY)]
    gates.deployed_where_built(ARTIFACT, DEV, history)


@pytest.mark.parametrize(
    "history",
    [
        [],
        [_deployment("dev-1a2b3c4", Health.FAILED)],
        [_deployment("dev-1a2b3c4", Health.PROGRESSING)],
        [_deployment("dev-1a2b3c4", Health.DEGRADED)],
        [_deployment("dev-9f8e7d6", Health.HEALTHY, OTHER)],
    ],
    ids=["never-deployed", "failed", "progressing", "degraded", "only-another-artifact-healthy"],
)
def test_an_artifact_not_healthy_where_it_was_built_is_refused(history: list[Deployment]) -> None:
    with pytest.raises(errors.GateNotMet) as caught:
        gates.deployed_where_built(ARTIFACT, DEV, history)
    assert "web:dev-1a2b3c4 has not deployed successfully in development" in str(caught.value)
    assert "promobot list" in str(caught.value)


@pytest.mark.parametrize("state", [Health.HEALTHY, Health.PROGRESSING])
def test_a_target_running_the_same_source_is_nothing_to_do(state: Health) -> None:
    current = _deployment("qa-1a2b3c4", state, env="qa")
    with pytest.raises(errors.NothingToDo) as caught:
        gates.not_already_there(ARTIFACT, QA, current)
    assert "qa already runs web:qa-1a2b3c4, built from the same source as web:dev-1a2b3c4" in str(caught.value)


@pytest.mark.parametrize("state", [Health.FAILED, Health.DEGRADED, Health.NONE])
def test_a_target_that_failed_with_the_same_source_may_be_promoted_again(state: Health) -> None:
    gates.not_already_there(ARTIFACT, QA, _deployment("qa-1a2b3c4", state, env="qa"))


def test_a_target_running_another_source_or_nothing_may_be_promoted() -> None:
    gates.not_already_there(ARTIFACT, QA, _deployment("qa-9f8e7d6", Health.HEALTHY, OTHER, env="qa"))
    gates.not_already_there(ARTIFACT, QA, None)


def test_a_promotion_of_the_same_source_already_in_flight_is_nothing_to_do() -> None:
    pending = [_waiting()]
    pending[0].env = "qa"
    with pytest.raises(errors.NothingToDo) as caught:
        gates.not_in_flight(ARTIFACT, QA, pending)
    assert "operation 12 is already moving 1a2b3c4 into qa" in str(caught.value)
    assert "promobot status 12" in str(caught.value)


def test_operations_moving_other_sources_do_not_block_a_promotion() -> None:
    other = _waiting()
    other.source_revision = OTHER
    gates.not_in_flight(ARTIFACT, QA, [other])
    gates.not_in_flight(ARTIFACT, QA, [])
