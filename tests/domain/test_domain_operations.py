"""The operation state machine: which moves are allowed, and what finished and active mean."""

from __future__ import annotations

import pytest

from promobot.domain import errors
from promobot.domain.operations import ALLOWED, Kind, Operation, State, Step

ALL_PAIRS = [(a, b) for a in State for b in State if a is not b]
ALLOWED_PAIRS = [(a, b) for a, b in ALL_PAIRS if b in ALLOWED[a]]
FORBIDDEN_PAIRS = [(a, b) for a, b in ALL_PAIRS if b not in ALLOWED[a]]


def _operation(state: State = State.QUEUED, step: Step = Step.REQUESTED) -> Operation:
    return Operation(
        kind=Kind.PROMOTE,
        app="web",
        env="qa",
        artifact="web:dev-1a2b3c4",
        requested_by="alice",
        state=state,
        step=step,
        message="alice asked",
        id=7,
    )


def test_every_state_has_a_rule_in_the_state_machine() -> None:
    assert set(ALLOWED) == set(State)


def test_the_state_machine_allows_exactly_the_documented_moves() -> None:
    assert set(ALLOWED_PAIRS) == {
        (State.QUEUED, State.RUNNING),
        (State.QUEUED, State.CANCELLED),
        (State.QUEUED, State.FAILED),
        (State.RUNNING, State.AWAITING_APPROVAL),
        (State.RUNNING, State.SUCCEEDED),
        (State.RUNNING, State.FAILED),
        (State.RUNNING, State.CANCELLED),
        (State.AWAITING_APPROVAL, State.RUNNING),
        (State.AWAITING_APPROVAL, State.FAILED),
        (State.AWAITING_APPROVAL, State.CANCELLED),
    }


@pytest.mark.parametrize(("before", "after"), ALLOWED_PAIRS, ids=lambda s: str(s))
def test_an_allowed_move_returns_the_operation_in_its_new_state(before: State, after: State) -> None:
    original = _operation(before)
    moved = original.move(after, step=Step.PINNED, message="moved")
    assert (moved.state, moved.step, moved.message) == (after, Step.PINNED, "moved")
    assert (moved.id, moved.app, moved.env, moved.requested_by) == (7, "web", "qa", "alice")
    assert original.state is before, "move returns a new operation and leaves the original alone"


@pytest.mark.parametrize(("before", "after"), FORBIDDEN_PAIRS, ids=lambda s: str(s))
def test_a_forbidden_move_is_refused_and_says_why(before: State, after: State) -> None:
    with pytest.raises(errors.InvalidTransition) as caught:
        _operation(before).move(after)
    assert f"operation 7 is {before}; it cannot become {after}" in str(caught.value)
    assert caught.value.http_status == 409


@pytest.mark.parametrize("state", [State.SUCCEEDED, State.FAILED, State.CANCELLED])
def test_a_finished_operation_can_move_nowhere_else(state: State) -> None:
    assert ALLOWED[state] == frozenset()
    for other in State:
        if other is not state:
            with pytest.raises(errors.InvalidTransition):
                _operation(state).move(other)


def test_a_move_keeps_step_and_message_unless_given() -> None:
    moved = _operation(State.QUEUED, Step.REQUESTED).move(State.RUNNING)
    assert (moved.step, moved.message) == (Step.REQUESTED, "alice asked")


def test_at_advances_the_step_without_changing_the_state() -> None:
    running = _operation(State.RUNNING, Step.BRANCH_UPDATED)
    pinned = running.at(Step.PINNED, "pin written")
    assert (pinned.state, pinned.step, pinned.message) == (State.RUNNING, Step.PINNED, "pin written")
    assert running.at(Step.DEPLOYING).message == "alice asked"


def test_approvers_are_not_shared_between_operations() -> None:
    first, second = _operation(), _operation()
    first.approvers.append("bob")
    assert second.approvers == []


@pytest.mark.parametrize(
    ("state", "finished", "active"),
    [
        (State.QUEUED, False, False),
        (State.RUNNING, False, True),
        (State.AWAITING_APPROVAL, False, True),
        (State.SUCCEEDED, True, False),
        (State.FAILED, True, False),
        (State.CANCELLED, True, False),
    ],
)
def test_finished_and_active_describe_each_state(state: State, finished: bool, active: bool) -> None:
    assert (state.finished, state.active) == (finished, active)


def test_states_read_as_their_plain_names() -> None:
    assert str(State.AWAITING_APPROVAL) == "awaiting_approval"
    assert f"{Step.PR_OPEN}" == "pr_open"
