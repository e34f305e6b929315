"""A deployment report's delivery: id, effect and audit entry in one transaction; failures let retries in."""

from __future__ import annotations

import pytest

from promobot.domain import errors
from promobot.domain.deployments import Deployment, Health
from promobot.domain.events import DeploymentReported
from promobot.service import auditing, delivering, queries
from promobot.service.context import Context
from support.fakes import World

Wired = tuple[Context, World]


def _report(ctx: Context, world: World, state: Health, app: str = "web") -> DeploymentReported:
    digest = world.gitops.pins[("development", "web")].digest
    return DeploymentReported("development", app, digest, state)


def _state(ctx: Context) -> str:
    return next(r.state for r in queries.board(ctx) if (r.app, r.env) == ("web", "development"))


def test_a_report_that_fails_leaves_no_delivery_id_so_the_retry_is_handled(wired: Wired) -> None:
    ctx, world = wired
    world.developed(ctx)
    with pytest.raises(errors.PromobotError):
        delivering.deliver(ctx, "engine", "d-7", [_report(ctx, world, Health.DEGRADED, app="nope")])

    assert delivering.deliver(ctx, "engine", "d-7", [_report(ctx, world, Health.DEGRADED)]) is True
    assert _state(ctx) == "degraded"
    found, _ = auditing.entries(ctx, actor="engine", limit=2)
    assert [e.outcome for e in found] == ["accepted", "failed"]


def test_a_report_whose_follow_up_fails_is_kept_and_its_retry_is_handled_again(wired: Wired) -> None:
    ctx, world = wired
    world.developed(ctx)
    listening = ctx.notifier

    class Broken:
        def operation_changed(self, operation: object) -> None:
            return None

        def deployment_changed(self, deployment: Deployment) -> None:
            raise RuntimeError("the feed is down")

    ctx.notifier = Broken()  # type: ignore[assignment]
    with pytest.raises(RuntimeError):
        delivering.deliver(ctx, "engine", "d-8", [_report(ctx, world, Health.DEGRADED)])
    ctx.notifier = listening

    assert _state(ctx) == "degraded"  # the effect committed with the delivery id
    assert delivering.deliver(ctx, "engine", "d-8", [_report(ctx, world, Health.DEGRADED)]) is True
    assert delivering.deliver(ctx, "engine", "d-8", [_report(ctx, world, Health.DEGRADED)]) is False
