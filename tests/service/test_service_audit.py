"""The audit log: every command (accepted or refused), approval, webhook and operation change, with its actor."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from promobot.domain import errors
from promobot.domain.deployments import Health
from promobot.domain.events import DeploymentReported
from promobot.service import auditing, delivering, freezing, requests
from promobot.service.context import Context
from support.fakes import DEVELOPER, RELEASE_MANAGER, World

Wired = tuple[Context, World]
Build = Callable[..., Wired]


def rows(ctx: Context, actor: str | None = None) -> list[tuple[str, str, str, str]]:
    found, _ = auditing.entries(ctx, actor=actor, limit=500)
    return [(e.actor, e.action, e.subject, e.outcome) for e in reversed(found)]


def test_an_accepted_promotion_is_recorded_with_the_operation_it_became(wired: Wired) -> None:
    ctx, world = wired
    built = world.developed(ctx)

    operation = requests.promote(ctx, DEVELOPER, f"web:{built.tag}", "qa")

    found, _ = auditing.entries(ctx, actor="developer", limit=2)
    command, created = found[0], found[1]
    assert (command.action, command.subject, command.outcome) == ("command", f"promote web:{built.tag} qa", "accepted")
    assert command.operation_id == operation.id
    assert (created.action, created.outcome, created.operation_id) == ("operation", "queued", operation.id)


def test_a_refused_command_is_recorded_with_the_refusal_text(wired: Wired) -> None:
    ctx, _world = wired

    with pytest.raises(errors.PromobotError) as refused:
        requests.promote(ctx, DEVELOPER, "web:dev-1234567", "qa")

    found, _ = auditing.entries(ctx, limit=1)
    assert (found[0].actor, found[0].subject, found[0].outcome) == (
        "developer",
        "promote web:dev-1234567 qa",
        "refused",
    )
    assert found[0].detail == str(refused.value)


def test_every_state_change_of_an_operation_is_recorded_with_who_caused_it(wired: Wired) -> None:
    ctx, world = wired
    built = world.developed(ctx)
    operation = world.promoted(ctx, f"web:{built.tag}", "qa")

    changes = [
        (e.actor, e.outcome)
        for e in reversed(auditing.entries(ctx, limit=500)[0])
        if e.action == "operation" and e.operation_id == operation.id
    ]
    assert changes == [("developer", "queued"), ("promobot", "running"), ("promobot", "succeeded")]


def test_an_approval_is_recorded_as_one(build: Build) -> None:
    ctx, world = build()
    built = world.developed(ctx)
    world.promoted(ctx, f"web:{built.tag}", "qa")
    world.promoted(ctx, f"web:{built.tag.replace('dev', 'qa')}", "staging")
    waiting = requests.promote(ctx, DEVELOPER, f"web:{built.tag.replace('dev', 'staging')}", "prod")
    world.settle(ctx)

    with pytest.raises(errors.NotAllowed):
        requests.approve(ctx, DEVELOPER, waiting.id or 0)
    requests.approve(ctx, RELEASE_MANAGER, waiting.id or 0)

    approvals = [(a, s, o) for a, kind, s, o in rows(ctx) if kind == "approval"]
    assert approvals == [
        ("developer", f"approve {waiting.id}", "refused"),
        ("release-manager", f"approve {waiting.id}", "accepted"),
    ]


def test_a_webhook_delivery_is_recorded_with_what_it_became_and_its_duplicate_too(wired: Wired) -> None:
    ctx, world = wired
    world.developed(ctx)
    digest = world.gitops.pins[("development", "web")].digest
    event = DeploymentReported("development", "web", digest, Health.DEGRADED)

    assert delivering.deliver(ctx, "engine", "d-1", [event]) is True
    assert delivering.deliver(ctx, "engine", "d-1", [event]) is False

    found, _ = auditing.entries(ctx, actor="engine", limit=2)
    assert [(e.subject, e.outcome) for e in found] == [
        ("engine delivery d-1", "duplicate"),
        ("engine delivery d-1", "accepted"),
    ]
    assert found[1].detail.endswith("in development: degraded")


def test_lock_and_unlock_are_recorded(wired: Wired) -> None:
    ctx, _world = wired
    freezing.lock(ctx, RELEASE_MANAGER, "qa", "release 4.2")
    freezing.unlock(ctx, RELEASE_MANAGER, "qa")

    assert rows(ctx, "release-manager") == [
        ("release-manager", "command", "lock qa release 4.2", "accepted"),
        ("release-manager", "command", "unlock qa", "accepted"),
    ]


def test_the_audit_log_pages_newest_first(wired: Wired) -> None:
    ctx, _world = wired
    for env in ("qa", "staging", "prod"):
        freezing.lock(ctx, RELEASE_MANAGER, env)

    first, more = auditing.entries(ctx, limit=2)
    rest, no_more = auditing.entries(ctx, limit=2, offset=2)
    assert [e.subject for e in first + rest] == ["lock prod", "lock staging", "lock qa"]
    assert (more, no_more) == (True, False)
