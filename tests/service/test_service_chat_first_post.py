"""An operation's first chat post happens exactly once: across a reporter killed around the post, and across
two reporters (replicas) racing to make it, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promobot import ports
from promobot.adapters.chat.slack.web_api import SlackChat
from promobot.domain.operations import Operation
from promobot.service import queries, reporting
from promobot.service.context import Context
from support import databases
from support.chat_world import CHANNELS, Killed, slack_chat, world_on
from support.fake_slack import FakeSlack
from support.fakes import World


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(params=databases.KINDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Context, World]]:
    with world_on(request.param, tmp_path) as found:
        yield found


def _kill_at(point: str) -> Any:
    def checkpoint(name: str) -> None:
        if name == point:
            raise Killed(point)

    return checkpoint


def _queued(ctx: Context, w: World) -> Operation:
    w.builder.complete(ctx, revision=w.push(ctx))  # built: an auto-deploy is queued
    [op] = queries.recent(ctx)
    return op


def _report(ctx: Context, slack: FakeSlack, op: Operation, **options: Any) -> bool:
    return reporting.report(ctx.store, slack_chat(slack), ctx.pipeline, CHANNELS, op, {}, **options)


def _stored(ctx: Context, op: Operation) -> Operation:
    with ctx.store.unit_of_work() as uow:
        found = uow.operations.get(op.id or 0)
    assert found is not None
    return found


def test_a_reporter_killed_after_posting_finds_its_message_instead_of_posting_again(
    world: tuple[Context, World], slack: FakeSlack
) -> None:
    ctx, w = world
    op = _queued(ctx, w)
    with pytest.raises(Killed):
        _report(ctx, slack, op, checkpoint=_kill_at("chat.posted"))
    [posted] = slack.top_level()
    assert _stored(ctx, op).chat_ts == ""  # the message id never reached the store

    again = w.context(restart=True)
    w.clock.advance(minutes=1)  # the dead reporter's claim is stale by now
    assert _report(again, slack, _stored(again, op))

    assert slack.top_level() == [posted]  # found in the channel, not posted again
    assert _stored(again, op).chat_ts == posted["ts"]
    assert [b["ts"] for b in slack.of("chat.update")] == [posted["ts"]]


def test_a_reporter_killed_after_claiming_posts_once_when_the_claim_is_stale(
    world: tuple[Context, World], slack: FakeSlack
) -> None:
    ctx, w = world
    op = _queued(ctx, w)
    with pytest.raises(Killed):
        _report(ctx, slack, op, checkpoint=_kill_at("chat.claimed"))
    assert slack.top_level() == []

    again = w.context(restart=True)
    assert not _report(again, slack, _stored(again, op))  # the claim may still be a live reporter's: wait
    assert slack.top_level() == []
    w.clock.advance(minutes=1)
    assert _report(again, slack, _stored(again, op))
    [posted] = slack.top_level()
    assert _stored(again, op).chat_ts == posted["ts"]


class Slow(SlackChat):
    """A chat whose first post waits until the other reporter is done (or a second passed)."""

    def __init__(self, slack: FakeSlack, other_done: threading.Event) -> None:
        super().__init__("xoxb-test", base_url=slack.base_url, attempts=2, sleep=lambda _: None)
        self.other_done = other_done

    def post(self, channel: str, message: ports.ChatMessage, *, key: str = "") -> ports.Posted:
        self.other_done.wait(1.0)
        return super().post(channel, message, key=key)


def test_two_reporters_racing_make_one_first_post_and_the_other_updates_it(
    world: tuple[Context, World], slack: FakeSlack
) -> None:
    ctx, w = world
    op = _queued(ctx, w)
    replicas = [w.context(restart=True), w.context(restart=True)]  # two processes on one database
    done = [threading.Event(), threading.Event()]
    results: list[bool | None] = [None, None]

    def one(i: int) -> None:
        chat = Slow(slack, done[1 - i])
        try:
            results[i] = reporting.report(replicas[i].store, chat, ctx.pipeline, CHANNELS, op, {})
        finally:
            done[i].set()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert sorted(results, key=str) == [False, True]  # one posted; the other is told to report again later
    loser = replicas[results.index(False)]
    assert _report(loser, slack, _stored(loser, op))  # later: it updates the message the winner recorded
    [posted] = slack.top_level()
    assert _stored(ctx, op).chat_ts == posted["ts"]
    assert [b["ts"] for b in slack.of("chat.update")] == [posted["ts"]]


def test_the_reporter_reports_a_change_again_until_the_other_replicas_first_post_is_recorded(
    world: tuple[Context, World], slack: FakeSlack
) -> None:
    ctx, w = world
    op = _queued(ctx, w)
    with ctx.store.unit_of_work() as uow:  # another replica is posting it right now
        assert uow.operations.claim_chat_message(op.id or 0, "#deploys", stale_after=30) is ports.ChatClaim.FIRST
        uow.commit()
    reporter = reporting.ChatReporter(ctx.store, slack_chat(slack), ctx.pipeline, CHANNELS, later=0.05)
    reporter.start()
    try:
        reporter.operation_changed(op)
        slack.wait_for(lambda: reporter.waiting == 1)  # tried, and told to wait for the other's post
        assert slack.top_level() == []
        with ctx.store.unit_of_work() as uow:  # the other replica's post lands and is recorded
            uow.operations.set_chat_message(op.id or 0, "C0DEPLOYS", "1700000000.999999")
            uow.commit()
        reporter.drain(10)
    finally:
        reporter.stop()
    assert slack.top_level() == []  # this reporter never posted a message of its own
    assert {b["ts"] for b in slack.of("chat.update")} == {"1700000000.999999"}  # it updated the other's


def test_a_restarted_reporter_posts_the_message_a_dead_one_claimed_without_waiting_for_a_new_change(
    world: tuple[Context, World], slack: FakeSlack
) -> None:
    ctx, w = world
    op = _queued(ctx, w)
    with pytest.raises(Killed):
        _report(ctx, slack, op, checkpoint=_kill_at("chat.claimed"))
    w.clock.advance(minutes=1)

    again = w.context(restart=True)
    reporter = reporting.ChatReporter(again.store, slack_chat(slack), again.pipeline, CHANNELS, later=0.05)
    reporter.start()  # the operation does not change again: the reporter looks for such claims itself
    try:
        reporter.drain(10)
    finally:
        reporter.stop()
    [posted] = slack.top_level()
    assert _stored(again, op).chat_ts == posted["ts"]
