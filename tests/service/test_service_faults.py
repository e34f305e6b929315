"""Dependency faults: what the worker does when git, the registry or the forge fails under it.

A temporary failure (remote unreachable, someone pushed first, registry 5xx or timeout, forge down) is
retried with exponential backoff and jitter, up to a bound; what retrying cannot fix (an image gone from
the registry, a refused token) fails the operation at once, with a message a person can act on. The
worker never dies: other operations keep moving. Chat's 429 is in tests/chat/test_chat_reporting.py
(`test_a_rate_limited_post_is_retried_after_retry_after`); the real git remote and registry failures in
tests/adapters/git/test_git_remote_faults.py and tests/adapters/registry/test_distribution_retries.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from promobot.domain import errors
from promobot.domain.operations import State, Step
from promobot.service import requests, working
from promobot.service.context import Context
from support.fakes import DEVELOPER, World

Build = Callable[..., tuple[Context, World]]

UNREACHABLE = "could not fetch from the git remote: fatal: '/srv/git/api.git' does not appear to be a git repository"


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def failing(times: int, error: errors.PromobotError, then: Callable[..., Any]) -> Callable[..., Any]:
    """A stand-in that raises `error` the first `times` calls, then does what `then` does."""
    calls = {"n": 0}

    def call(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error
        return then(*args, **kwargs)

    return call


def retry_until_settled(ctx: Context, world: World, clock: Clock, operation_id: int, rounds: int = 12) -> list[float]:
    """Tick, jumping the clock to each retry; the waits the backoff asked for."""
    waits: list[float] = []
    for _ in range(rounds):
        world.tick(ctx)
        wait = world.backoff.retry_in(operation_id)
        if wait == 0 or world.operation(ctx, operation_id).state.finished:
            break
        waits.append(round(wait, 3))
        clock.now += wait
    return waits


def test_backoff_doubles_up_to_its_cap_and_jitter_only_ever_shortens_the_wait() -> None:
    clock = Clock()
    for draw, expected in ((0.0, [2, 4, 8, 10, 10]), (1.0, [1, 2, 4, 5, 5]), (0.5, [1.5, 3, 6, 7.5, 7.5])):
        backoff = working.Backoff(cap=10.0, jitter=0.5, random=lambda d=draw: d, clock=clock)
        waits = []
        for _ in expected:
            backoff.failed(7, 2.0)
            waits.append(backoff.retry_in(7))
        assert waits == expected
        assert not backoff.ready(7)
        clock.now += 10
        assert backoff.ready(7)


def test_an_unreachable_git_remote_is_retried_then_fails_with_its_reason_while_another_app_is_promoted(
    build: Build,
) -> None:
    ctx, world = build(apps=("web", "api"))
    clock = Clock()
    web, api = world.developed(ctx, "web"), world.developed(ctx, "api")
    world.backoff = working.Backoff(random=lambda: 0.5, clock=clock)
    world.repos["api"].refresh = failing(99, errors.TemporaryError(UNREACHABLE, retry_after=5.0), lambda: None)  # type: ignore[method-assign]

    stuck = requests.promote(ctx, DEVELOPER, f"api:{api.tag}", "qa")
    moving = requests.promote(ctx, DEVELOPER, f"web:{web.tag}", "qa")
    world.tick(ctx)
    world.builder.complete(ctx, app="web")
    world.settle(ctx)
    world.report(ctx, "qa", "web")
    assert world.operation(ctx, moving.id).state is State.SUCCEEDED  # web went on while api's remote was down

    waits = retry_until_settled(ctx, world, clock, stuck.id or 0)
    failed = world.operation(ctx, stuck.id)
    assert waits == [3.75, 7.5, 15.0, 22.5, 22.5, 22.5, 22.5]  # 5 s doubling, capped at 30 s, less 25 % jitter
    assert failed.state is State.FAILED
    assert failed.message == f"gave up after 8 attempts: {UNREACHABLE}"
    assert world.repos["api"].branches["qa"] == world.repos["api"].first_parent("qa")[0].sha  # nothing pushed
    assert not world.repos["api"].created


def test_a_git_remote_back_within_the_retries_promotes_once(wired: tuple[Context, World]) -> None:
    ctx, world = wired
    clock = Clock()
    dev = world.developed(ctx)
    world.backoff = working.Backoff(random=lambda: 0.0, clock=clock)
    world.repos["web"].refresh = failing(3, errors.TemporaryError(UNREACHABLE), lambda: None)  # type: ignore[method-assign]

    operation = requests.promote(ctx, DEVELOPER, dev.tag, "qa")
    assert retry_until_settled(ctx, world, clock, operation.id or 0) == [1.0, 2.0, 4.0]

    assert world.operation(ctx, operation.id).step is Step.AWAITING_ARTIFACT
    assert len(world.repos["web"].created) == 1 and list(world.repos["web"].tags) == [f"qa-{dev.source_revision[:7]}"]


def test_a_push_rejected_because_someone_pushed_first_is_promoted_on_top_of_theirs(
    wired: tuple[Context, World],
) -> None:
    ctx, world = wired
    clock = Clock()
    dev = world.developed(ctx)
    world.backoff = working.Backoff(clock=clock)
    repo = world.repos["web"]
    repo.someone_pushes_first("qa")

    operation = requests.promote(ctx, DEVELOPER, dev.tag, "qa")
    assert len(retry_until_settled(ctx, world, clock, operation.id or 0)) == 1

    promoted = world.operation(ctx, operation.id)
    head = repo.commit(repo.branches["qa"])
    assert promoted.branch_commit == head.sha and promoted.step is Step.AWAITING_ARTIFACT
    assert repo.commit(head.parents[0]).author == "someone"
    assert repo.files(head.sha) == repo.files(dev.source_revision)  # their commit is under it, not in it


def test_a_registry_answering_503_is_retried_and_the_rollback_goes_through(wired: tuple[Context, World]) -> None:
    ctx, world = wired
    clock = Clock()
    first = world.developed(ctx)
    world.developed(ctx, files={"app.py": "v2\n"})
    world.backoff = working.Backoff(random=lambda: 0.0, clock=clock)
    operation = requests.rollback(ctx, DEVELOPER, "web", "development")
    down = errors.TemporaryError("the registry at https://registry.example did not answer HEAD (HTTP 503)")
    world.registry.exists = failing(2, down, world.registry.exists)  # type: ignore[method-assign]
    assert retry_until_settled(ctx, world, clock, operation.id or 0) == [1.0, 2.0]

    assert world.gitops.pins[("development", "web")].tag == first.tag
    world.report(ctx, "development")
    assert world.operation(ctx, operation.id).state is State.SUCCEEDED


def test_a_rollback_to_an_image_gone_from_the_registry_is_refused_or_fails_at_once_and_pins_nothing(
    wired: tuple[Context, World],
) -> None:
    ctx, world = wired
    first = world.developed(ctx)
    world.developed(ctx, files={"app.py": "v2\n"})
    pins = len(world.gitops.commits)

    operation = requests.rollback(ctx, DEVELOPER, "web", "development")
    world.registry.delete("registry.example/web", first.digest)  # gone between the request and the step
    world.settle(ctx)
    with pytest.raises(errors.GateNotMet, match=f"gone from the registry: web:{first.tag}; promote a newer"):
        requests.rollback(ctx, DEVELOPER, "web", "development")

    failed = world.operation(ctx, operation.id)
    assert failed.state is State.FAILED
    assert failed.message == f"web:{first.tag} ({first.digest[:19]}) is gone from the registry"
    assert len(world.gitops.commits) == pins


def test_a_forge_that_cannot_be_reached_is_retried_and_opens_one_pull_request(wired: tuple[Context, World]) -> None:
    ctx, world = wired
    clock = Clock()
    dev = world.developed(ctx)
    world.backoff = working.Backoff(random=lambda: 0.0, clock=clock)
    down = errors.TemporaryError("cannot reach GitHub at https://api.github.com (ConnectError)", retry_after=5)
    world.forge.open_pull_request = failing(2, down, world.forge.open_pull_request)  # type: ignore[method-assign]

    operation = requests.promote(ctx, DEVELOPER, dev.tag, "prod")
    assert retry_until_settled(ctx, world, clock, operation.id or 0) == [5.0, 10.0]

    waiting = world.operation(ctx, operation.id)
    assert (waiting.state, waiting.pr_number, len(world.forge.pulls)) == (State.AWAITING_APPROVAL, 1, 1)
    assert len(world.repos["web"].created) == 1  # the retries reused the pushed promotion branch


def test_a_forge_refusing_the_token_fails_the_promotion_at_once_saying_what_to_fix(
    wired: tuple[Context, World],
) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    refused = errors.PermanentError(
        "GitHub refused promobot's token (401 Bad credentials)",
        "check the forge token in promobot's configuration and its expiry",
    )
    world.forge.open_pull_request = failing(99, refused, world.forge.open_pull_request)  # type: ignore[method-assign]

    operation = requests.promote(ctx, DEVELOPER, dev.tag, "prod")
    world.settle(ctx)

    failed = world.operation(ctx, operation.id)
    assert failed.state is State.FAILED
    assert failed.message == (
        "GitHub refused promobot's token (401 Bad credentials); "
        "check the forge token in promobot's configuration and its expiry"
    )
