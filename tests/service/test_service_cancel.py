"""Cancelling: queued or waiting operations stop; running ones are past the point of cancelling."""

from __future__ import annotations

import pytest

from promobot.domain import errors
from promobot.domain.operations import State
from promobot.service import requests
from promobot.service.context import Context
from support.fakes import DEVELOPER, RELEASE_MANAGER, World

Wired = tuple[Context, World]


def test_a_queued_operation_can_be_cancelled_and_never_runs(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag)
    state = world.git_state()

    cancelled = requests.cancel(ctx, DEVELOPER, operation.id or 0)
    world.settle(ctx)

    assert (cancelled.state, cancelled.message) == (State.CANCELLED, "cancelled by developer")
    assert world.operation(ctx, operation.id).state is State.CANCELLED
    assert world.git_state() == state


def test_a_pull_request_waiting_for_approval_can_be_cancelled(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag, "prod")
    world.settle(ctx)

    requests.cancel(ctx, RELEASE_MANAGER, operation.id or 0)

    with pytest.raises(errors.GateNotMet):
        requests.approve(ctx, RELEASE_MANAGER, operation.id or 0)
    assert world.operation(ctx, operation.id).state is State.CANCELLED


def test_cancelling_a_running_operation_is_refused(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag)
    world.settle(ctx)

    with pytest.raises(errors.GateNotMet) as refused:
        requests.cancel(ctx, DEVELOPER, operation.id or 0)

    assert refused.value.message == (
        f"operation {operation.id} is running; only queued or waiting ones can be cancelled"
    )
    assert world.operation(ctx, operation.id).state is State.RUNNING


def test_an_operation_cancelled_meanwhile_stays_cancelled_when_the_worker_catches_up(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag, "prod")
    world.settle(ctx)
    requests.cancel(ctx, DEVELOPER, operation.id or 0)

    world.settle(ctx)

    assert world.operation(ctx, operation.id).state is State.CANCELLED
    assert world.forge.merges == []
