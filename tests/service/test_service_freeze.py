"""Release freeze: locking an environment refuses or holds promotions into it; rollbacks still go in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from promobot.domain import errors
from promobot.domain.operations import Kind, Operation, State
from promobot.domain.people import User
from promobot.domain.pipeline import WhenLocked
from promobot.service import chatting, freezing, queries, requests
from promobot.service.context import Context
from support.fakes import DEVELOPER, ENVS, RELEASE_MANAGER, World

Wired = tuple[Context, World]
Build = Callable[..., Wired]
LOCKERS = frozenset({"release-manager"})


def envs(when_locked: WhenLocked = WhenLocked.REFUSE, lockers: frozenset[str] = LOCKERS) -> tuple[object, ...]:
    return tuple(replace(env, when_locked=when_locked, lockers=lockers) for env in ENVS)


def test_a_promotion_into_a_locked_environment_is_refused_naming_who_when_and_why(build: Build) -> None:
    ctx, world = build(envs=envs())
    built = world.developed(ctx)
    freezing.lock(ctx, RELEASE_MANAGER, "qa", "release 4.2")
    before = world.git_state()

    with pytest.raises(errors.GateNotMet) as refused:
        requests.promote(ctx, DEVELOPER, f"web:{built.tag}", "qa")

    assert refused.value.message == (
        "qa is locked by release-manager since 2024-05-01 12:00 UTC (release 4.2); promotions into it are refused"
    )
    assert world.git_state() == before


def test_in_wait_mode_a_promotion_queues_and_the_worker_leaves_it_until_unlocked(build: Build) -> None:
    ctx, world = build(envs=envs(WhenLocked.WAIT))
    built = world.developed(ctx)
    freezing.lock(ctx, RELEASE_MANAGER, "qa", "release 4.2")

    operation = requests.promote(ctx, DEVELOPER, f"web:{built.tag}", "qa")
    world.settle(ctx)

    waiting = world.operation(ctx, operation.id)
    assert waiting.state is State.QUEUED
    assert waiting.message == "waiting: qa is locked by release-manager since 2024-05-01 12:00 UTC (release 4.2)"
    assert operation.target_tag not in world.repos["web"].tags

    freezing.unlock(ctx, RELEASE_MANAGER, "qa")
    world.settle(ctx)
    assert world.operation(ctx, operation.id).state is State.RUNNING


def test_promotions_queued_before_the_lock_wait_too_and_say_so(build: Build) -> None:
    ctx, world = build(envs=envs(WhenLocked.REFUSE))
    built = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, f"web:{built.tag}", "qa")

    freezing.lock(ctx, RELEASE_MANAGER, "qa")
    world.settle(ctx)

    waiting = world.operation(ctx, operation.id)
    assert (waiting.state, waiting.message) == (
        State.QUEUED,
        "waiting: qa is locked by release-manager since 2024-05-01 12:00 UTC",
    )


def test_rollback_into_a_locked_environment_is_still_allowed(build: Build) -> None:
    ctx, world = build(envs=envs())
    previous, _ = world.developed(ctx), world.developed(ctx)
    freezing.lock(ctx, RELEASE_MANAGER, "development", "incident")

    operation = requests.rollback(ctx, DEVELOPER, "web", "development")
    world.settle(ctx)

    assert operation.kind is Kind.ROLLBACK
    assert world.gitops.pins[("development", "web")].digest == previous.digest


def test_rollback_goes_past_a_promotion_waiting_on_the_lock(build: Build) -> None:
    ctx, world = build(envs=envs(WhenLocked.WAIT))
    previous, current = world.developed(ctx), world.developed(ctx)
    freezing.lock(ctx, RELEASE_MANAGER, "development")
    redeploy = requests.promote(ctx, DEVELOPER, f"web:{previous.tag}", "development")

    rollback = requests.rollback(ctx, DEVELOPER, "web", "development")
    world.settle(ctx)

    assert world.operation(ctx, redeploy.id).state is State.QUEUED
    assert world.operation(ctx, rollback.id).state is State.RUNNING
    assert current.tag != previous.tag


def test_only_lockers_may_lock_and_unlock(build: Build) -> None:
    ctx, _world = build(envs=envs())

    with pytest.raises(errors.NotAllowed) as refused:
        freezing.lock(ctx, DEVELOPER, "qa")
    assert refused.value.message == "developer may not lock qa"
    freezing.lock(ctx, RELEASE_MANAGER, "qa")
    with pytest.raises(errors.NotAllowed):
        freezing.unlock(ctx, DEVELOPER, "qa")
    assert [lock.env for lock in freezing.current(ctx)] == ["qa"]


def test_without_lockers_the_environments_promoters_may_lock(build: Build) -> None:
    ctx, _world = build(envs=envs(lockers=frozenset()))

    assert freezing.lock(ctx, DEVELOPER, "qa").by == "developer"


def test_locking_twice_or_unlocking_an_unlocked_environment_changes_nothing(build: Build) -> None:
    ctx, _world = build(envs=envs())
    freezing.lock(ctx, RELEASE_MANAGER, "qa", "first")

    with pytest.raises(errors.NothingToDo):
        freezing.lock(ctx, RELEASE_MANAGER, "qa", "second")
    assert freezing.current(ctx)[0].reason == "first"
    freezing.unlock(ctx, RELEASE_MANAGER, "qa")
    with pytest.raises(errors.NothingToDo, match="qa is not locked"):
        freezing.unlock(ctx, RELEASE_MANAGER, "qa")


def test_auto_deploys_into_a_locked_development_are_skipped_in_refuse_mode(build: Build) -> None:
    ctx, world = build(envs=envs())
    world.developed(ctx)
    freezing.lock(ctx, RELEASE_MANAGER, "development")
    pinned = world.gitops.pins[("development", "web")]

    world.push(ctx)
    world.builder.complete(ctx)
    world.settle(ctx)

    assert world.gitops.pins[("development", "web")] == pinned
    assert [op.kind for op in requests_recent(ctx)].count(Kind.DEPLOY) == 1


def test_auto_deploys_into_a_locked_development_wait_in_wait_mode(build: Build) -> None:
    ctx, world = build(envs=envs(WhenLocked.WAIT))
    world.developed(ctx)
    freezing.lock(ctx, RELEASE_MANAGER, "development")

    world.push(ctx)
    world.builder.complete(ctx)
    world.settle(ctx)
    newest = requests_recent(ctx)[0]
    assert (newest.kind, newest.state) == (Kind.DEPLOY, State.QUEUED)
    assert newest.message.startswith("waiting: development is locked by release-manager")

    freezing.unlock(ctx, RELEASE_MANAGER, "development")
    world.settle(ctx)
    assert world.operation(ctx, newest.id).state is State.RUNNING


def test_lock_unlock_and_locks_in_chat(build: Build) -> None:
    ctx, _world = build(envs=envs())
    user = User("release-manager", frozenset({"release-manager"}))

    locked = chatting.answer(ctx, user, "/lock qa release 4.2 freeze").message.text
    listed = chatting.answer(ctx, user, "/locks").message.text
    unlocked = chatting.answer(ctx, user, "/unlock qa").message.text
    refused = chatting.answer(ctx, DEVELOPER, "/lock qa").message.text

    assert locked.startswith("qa is locked by release-manager since 2024-05-01 12:00 UTC (release 4.2 freeze)")
    assert listed == "qa is locked by release-manager since 2024-05-01 12:00 UTC (release 4.2 freeze)"
    assert unlocked.startswith("qa is unlocked by release-manager")
    assert refused.startswith("Refused: developer may not lock qa")


def requests_recent(ctx: Context) -> list[Operation]:
    return queries.recent(ctx, limit=50)
