"""A lost sync request is sent again: while an operation deploys and Argo CD (the contract fake) still runs
another image than the pin, the worker asks it to sync again, at most every `timeouts.resync` and a bounded
number of times, and then fails the operation saying what to check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from promobot.adapters.engines.argocd import ArgoCDEngine
from promobot.domain.operations import Operation, State, Step
from promobot.service import queries
from promobot.service.context import Context, Timeouts
from support.fake_argocd import FakeArgoCD
from support.fakes import World

TOKEN = "argocd-token-for-the-resync-tests"
IMAGE = "registry.example/web"
OLD = f"{IMAGE}@sha256:" + "0" * 64
APPLICATION = "web-development"


@pytest.fixture
def argo() -> Iterator[FakeArgoCD]:
    with FakeArgoCD(tokens={TOKEN: {"default"}}) as fake:
        fake.add(APPLICATION, images=[OLD])
        fake.apply_syncs = True  # a sync that arrives deploys what git asks for
        yield fake


@pytest.fixture
def world(build: Callable[[], tuple[Context, World]], argo: FakeArgoCD) -> Iterator[tuple[Context, World]]:
    ctx, w = build()
    engine = ArgoCDEngine(url=argo.url, token=TOKEN, backoff=0.0, images={"web": IMAGE})
    ctx.engine = engine
    ctx.timeouts = Timeouts(resync=timedelta(seconds=30), resyncs=3)
    try:
        yield ctx, w
    finally:
        engine.close()


def _deploying(ctx: Context, w: World, argo: FakeArgoCD) -> Operation:
    """A develop push built and pinned; the worker asked Argo CD to sync it."""
    w.builder.complete(ctx, revision=w.push(ctx))
    w.settle(ctx)
    pin = w.gitops.pins[("development", "web")]
    argo.apps[APPLICATION].desired_images = [f"{pin.image}@{pin.digest}"]  # what git now asks Argo CD for
    [op] = queries.recent(ctx)
    assert (op.state, op.step) == (State.RUNNING, Step.DEPLOYING)
    return op


def test_a_lost_sync_is_asked_again_and_the_deployment_finishes(
    world: tuple[Context, World], argo: FakeArgoCD
) -> None:
    ctx, w = world
    argo.drop_syncs = 1
    op = _deploying(ctx, w, argo)
    assert argo.dropped == [APPLICATION] and argo.syncs == []

    w.clock.advance(seconds=10)
    w.settle(ctx)
    assert argo.syncs == []  # not yet: a sync may take a while to show

    w.clock.advance(seconds=21)
    w.settle(ctx)
    assert argo.syncs == [APPLICATION]
    w.tick(ctx)  # the worker's next look finds the pin running
    done = w.operation(ctx, op.id)
    assert done.state is State.SUCCEEDED, done.message
    assert done.message.startswith(f"web:{op.target_tag} is healthy in development")


def test_an_engine_that_never_applies_the_pin_fails_the_operation_after_the_bounded_resyncs(
    world: tuple[Context, World], argo: FakeArgoCD
) -> None:
    ctx, w = world
    argo.drop_syncs = 100
    op = _deploying(ctx, w, argo)
    for attempt in range(1, 4):
        w.clock.advance(seconds=31)
        w.settle(ctx)
        w.settle(ctx)  # at most one request per rest, however often the worker looks
        assert len(argo.dropped) == 1 + attempt
        assert w.operation(ctx, op.id).state is State.RUNNING

    w.clock.advance(seconds=31)
    w.settle(ctx)
    failed = w.operation(ctx, op.id)
    assert failed.state is State.FAILED
    assert "after 4 sync requests" in failed.message
    assert "check that the engine is up, reaches the GitOps repository" in failed.message
    assert len(argo.dropped) == 4


def test_an_engine_that_runs_the_pin_is_not_asked_again(world: tuple[Context, World], argo: FakeArgoCD) -> None:
    ctx, w = world
    argo.apply_syncs = False
    op = _deploying(ctx, w, argo)
    assert argo.syncs == [APPLICATION]
    app = argo.apps[APPLICATION]
    app.images, app.health = list(app.desired_images), "Progressing"  # deploying it: slow, but the right image
    w.clock.advance(minutes=2)
    w.settle(ctx)
    assert argo.syncs == [APPLICATION] and argo.dropped == []
    assert w.operation(ctx, op.id).state is State.RUNNING
