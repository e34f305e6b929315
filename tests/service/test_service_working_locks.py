"""Several replicas: a worker drives only the operations it holds; one another replica holds is left alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from promobot.domain.operations import State, Step
from promobot.service import requests, working
from promobot.service.context import Context
from support.fakes import DEVELOPER, World

Wired = tuple[Context, World]


class HeldElsewhere:
    """Operation locks where another replica holds the operations in `theirs`."""

    def __init__(self, theirs: set[int]) -> None:
        self.theirs = theirs
        self.asked: list[int] = []

    @contextmanager
    def hold(self, operation_id: int) -> Iterator[bool]:
        self.asked.append(operation_id)
        yield operation_id not in self.theirs


def test_an_operation_another_replica_holds_is_not_driven_here(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag)
    assert operation.id is not None
    locks = HeldElsewhere({operation.id})
    qa_before = world.repos["web"].branches["qa"]

    assert working.tick(ctx, world.backoff, locks) == 0

    assert locks.asked == [operation.id]
    held = world.operation(ctx, operation.id)
    assert (held.state, held.step) == (State.RUNNING, Step.REQUESTED)  # claimed, but not stepped here
    assert world.repos["web"].branches["qa"] == qa_before  # no promotion commit pushed


def test_an_operation_is_driven_once_its_holder_let_go(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag)
    assert operation.id is not None
    locks = HeldElsewhere({operation.id})
    working.tick(ctx, world.backoff, locks)

    locks.theirs.clear()
    assert working.tick(ctx, world.backoff, locks) > 0

    assert world.operation(ctx, operation.id).step is Step.AWAITING_ARTIFACT
