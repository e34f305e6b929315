"""Reporting to Slack: a complete thread per message; a restart keeps updating the same message; 429s are
waited out; errors never stop it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from promobot import ports
from promobot.adapters.chat.slack.web_api import SlackChat
from promobot.domain import errors
from promobot.domain.operations import State
from promobot.messages import operations
from promobot.service import queries, reporting
from promobot.service.context import Context
from support.fake_slack import FakeSlack
from support.fakes import World, make_context

CHANNELS = reporting.Channels("#deploys", envs={"prod": "#prod"})


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Context, World]]:
    ctx, world = make_context(tmp_path)
    try:
        yield ctx, world
    finally:
        world.close()


def _reporting(ctx: Context, slack: FakeSlack, attempts: int = 4) -> reporting.ChatReporter:
    chat = SlackChat("xoxb-test", base_url=slack.base_url, attempts=attempts, sleep=lambda _: None)
    reporter = reporting.ChatReporter(ctx.store, chat, ctx.pipeline, CHANNELS)
    ctx.notifier = reporting.Notifiers([ctx.notifier, reporter])
    reporter.start()
    return reporter


def test_a_restarted_server_keeps_updating_the_same_message(world: tuple[Context, World], slack: FakeSlack) -> None:
    ctx, w = world
    first = _reporting(ctx, slack)
    built = w.developed(ctx)
    first.drain()
    first.stop()
    [posted] = [b for b in slack.of("chat.postMessage") if "thread_ts" not in b]

    again = w.context(restart=True)  # a new process on the same database
    second = _reporting(again, slack)
    w.promoted(again, f"web:{built.tag}", "qa")
    second.drain()
    second.stop()
    deploy = next(op for op in queries.recent(again) if op.kind == "deploy")
    assert deploy.chat_ts == "1700000000.000001" and deploy.state is State.SUCCEEDED
    promote = next(op for op in queries.recent(again) if op.kind == "promote")
    tops = [b for b in slack.of("chat.postMessage") if "thread_ts" not in b]
    # one top-level message per operation; the first post shows whatever state the operation had reached
    assert [b["text"].split(" (")[0].split("] ", 1)[1] for b in tops] == [
        posted["text"].split(" (")[0].split("] ", 1)[1],
        f"Promote web:{built.tag} → qa",
    ]
    assert {b["ts"] for b in slack.of("chat.update")} == {deploy.chat_ts, promote.chat_ts}


def test_every_state_change_has_its_thread_line_in_order_the_first_one_too(
    world: tuple[Context, World], slack: FakeSlack
) -> None:
    ctx, w = world
    reporter = _reporting(ctx, slack)
    built = w.developed(ctx)
    w.promoted(ctx, f"web:{built.tag}", "qa")
    reporter.drain()
    reporter.stop()
    for op in queries.recent(ctx):
        with ctx.store.unit_of_work() as uow:
            events = uow.operations.events(op.id or 0)
        thread = [b["text"] for b in slack.of("chat.postMessage") if b.get("thread_ts") == op.chat_ts]
        assert thread == [operations.step(e).text for e in events]
        assert len(thread) >= 4 and thread[0].startswith("queued: ") and thread[-1].startswith("succeeded: ")
        assert len(set(thread)) == len(thread)  # each line says what changed


def test_a_refused_first_post_leaves_no_gap_in_the_thread(world: tuple[Context, World], slack: FakeSlack) -> None:
    ctx, w = world
    slack.fail("chat.postMessage", (200, "channel_not_found"))
    reporter = _reporting(ctx, slack)
    w.developed(ctx)
    reporter.drain()
    reporter.stop()
    [op] = queries.recent(ctx)
    with ctx.store.unit_of_work() as uow:
        events = uow.operations.events(op.id or 0)
    thread = [b["text"] for b in slack.of("chat.postMessage") if b.get("thread_ts") == op.chat_ts]
    assert thread == [operations.step(e).text for e in events]


def test_a_rate_limited_post_is_retried_after_retry_after(world: tuple[Context, World], slack: FakeSlack) -> None:
    ctx, w = world
    slack.fail("chat.postMessage", (429, "ratelimited"), (429, "ratelimited"))
    reporter = _reporting(ctx, slack)
    w.developed(ctx)
    reporter.drain()
    reporter.stop()
    assert len(slack.of("chat.postMessage")) >= 3
    assert next(op for op in queries.recent(ctx)).chat_ts


def test_a_refused_post_is_logged_and_the_reporter_goes_on(world: tuple[Context, World], slack: FakeSlack) -> None:
    ctx, w = world
    slack.fail("chat.postMessage", (200, "channel_not_found"))
    reporter = _reporting(ctx, slack)
    w.developed(ctx)
    reporter.drain()
    reporter.stop()
    assert len(slack.of("chat.update")) >= 1  # the first post failed, a later change posted again then updated


def test_the_web_api_gives_up_after_its_bound_with_a_temporary_error(slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", *[(503, "service_unavailable")] * 3)
    chat = SlackChat("xoxb-test", base_url=slack.base_url, attempts=3, sleep=lambda _: None)
    with pytest.raises(errors.TemporaryError, match="gave up after 3 attempts"):
        chat.post("#deploys", ports.ChatMessage("x"))
