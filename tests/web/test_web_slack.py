"""Slack over HTTP: signed requests to the real app, answers and messages seen only at a fake Slack."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from promobot.domain.operations import State
from promobot.service import queries
from promobot.service.context import Context
from support.fake_slack import FakeSlack
from support.fakes import World, make_context
from support.slack_server import SlackServer


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Context, World]]:
    ctx, world = make_context(tmp_path / "world")
    try:
        yield ctx, world
    finally:
        world.close()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def server(world: tuple[Context, World], slack: FakeSlack, tmp_path: Path) -> Iterator[SlackServer]:
    running = SlackServer(world[0], tmp_path / "server", slack).start()
    try:
        yield running
    finally:
        running.stop()


def _buttons(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        e["text"]["text"]: e
        for block in body.get("blocks", [])
        if block["type"] == "actions"
        for e in block["elements"]
    }


def test_bad_or_stale_signatures_are_refused_with_401_and_nothing_is_done(
    server: SlackServer, slack: FakeSlack, world: tuple[Context, World]
) -> None:
    ctx, w = world
    w.developed(ctx)
    url = slack.response_url(1)
    forged = server.slash("U0DEV", "/promote", "web@development", url, secret="not-the-secret")
    stale = server.slash("U0DEV", "/promote", "web@development", url, at=time.time() - 6 * 60)
    assert (forged.status_code, stale.status_code) == (401, 401)
    time.sleep(0.3)
    assert [op.kind for op in queries.recent(ctx)] == ["deploy"]
    assert slack.of("response_url") == [] and len(slack.of("auth.test")) == 1  # the start-up check alone


def test_a_slash_command_is_acked_at_once_while_the_work_is_slow(
    server: SlackServer, slack: FakeSlack, world: tuple[Context, World]
) -> None:
    ctx, w = world
    w.developed(ctx)
    w.repos["web"].refresh = lambda: time.sleep(3.5)  # type: ignore[method-assign]
    started = time.monotonic()
    answer = server.slash("U0DEV", "/diff", "development qa", slack.response_url(1))
    assert answer.status_code == 200 and time.monotonic() - started < 3
    assert "Working on it" in answer.text
    diff = slack.wait_for(lambda: slack.of("response_url"), timeout=10)
    assert "next: /promote web:dev-" in diff[0]["text"]


def test_the_bot_token_is_checked_once_at_start_and_no_ack_waits_on_slack(
    server: SlackServer, slack: FakeSlack, world: tuple[Context, World]
) -> None:
    ctx, w = world
    w.developed(ctx)
    assert len(slack.of("auth.test")) == 1  # checked while the server started, before any request
    slack.fail("auth.test", *[(503, "service_unavailable")] * 20)  # Slack's auth.test down from now on
    w.repos["web"].refresh = lambda: time.sleep(1.0)  # type: ignore[method-assign]
    answers = [server.slash("U0DEV", "/diff", "development qa", slack.response_url(n)) for n in range(3)]
    assert [(a.status_code, a.text) for a in answers] == [(200, "Working on it…")] * 3  # acked before the work
    assert slack.of("response_url") == []  # the work is still under way
    diffs = slack.wait_for(lambda: len(slack.of("response_url")) >= 3 and slack.of("response_url"), timeout=20)
    assert all("next: /promote web:dev-" in d["text"] for d in diffs)
    assert len(slack.of("auth.test")) == 1


def test_a_refused_bot_token_is_one_log_line_at_start_and_commands_still_answer(
    world: tuple[Context, World], slack: FakeSlack, tmp_path: Path
) -> None:
    slack.fail("auth.test", (200, "invalid_auth"))
    with capture_logs() as logged:
        running = SlackServer(world[0], tmp_path / "server", slack).start()
    try:
        errors = [e for e in logged if e["log_level"] == "error"]
        assert len(errors) == 1 and "invalid_auth" in errors[0]["problem"]
        assert "xoxb-test-token" not in repr(logged)
        answer = running.slash("U0DEV", "/promobot", "help", slack.response_url(1))
        assert answer.status_code == 200
        [reply] = slack.wait_for(lambda: slack.of("response_url"))
        assert "/promote" in reply["text"]
    finally:
        running.stop()


def test_an_unmapped_user_is_refused_alone_and_nothing_happens(
    server: SlackServer, slack: FakeSlack, world: tuple[Context, World]
) -> None:
    ctx, w = world
    w.developed(ctx)
    server.slash("U0STRANGER", "/promote", "web@development", slack.response_url(1))
    [refusal] = slack.wait_for(lambda: slack.of("response_url"))
    assert "U0STRANGER" in refusal["text"] and "not a promobot user" in refusal["text"]
    assert refusal["response_type"] == "ephemeral"
    assert [op.kind for op in queries.recent(ctx)] == ["deploy"]


def test_a_retried_mention_starts_one_operation(
    server: SlackServer, slack: FakeSlack, world: tuple[Context, World]
) -> None:
    ctx, w = world
    w.developed(ctx)
    for retry in (0, 1):
        assert server.mention("U0DEV", "<@UBOT> promote web@development", "Ev0001", retry).status_code == 200
    replies = slack.wait_for(lambda: len(slack.of("chat.postEphemeral")) >= 3 and slack.of("chat.postEphemeral"))
    texts = sorted(r["text"] for r in replies)
    assert len(texts) == 3 and texts[0].startswith("That click was already handled")
    assert texts[1] == "Working on it…" and texts[2].startswith("operation #2 started")  # said once, not per retry
    assert [op.kind for op in queries.recent(ctx)] == ["promote", "deploy"]


def test_a_mention_says_working_on_it_to_the_caller_at_once_then_answers(
    server: SlackServer, slack: FakeSlack, world: tuple[Context, World]
) -> None:
    ctx, w = world
    w.developed(ctx)
    w.repos["web"].refresh = lambda: time.sleep(1.0)  # type: ignore[method-assign]
    started = time.monotonic()
    assert server.mention("U0DEV", "<@UBOT> diff development qa", "Ev0002").status_code == 200
    [working] = slack.wait_for(lambda: slack.of("chat.postEphemeral"))
    assert time.monotonic() - started < 1.0 and working["text"] == "Working on it…"
    assert (working["user"], working["channel"]) == ("U0DEV", "C0DEPLOYS")
    replies = slack.wait_for(lambda: len(slack.of("chat.postEphemeral")) >= 2 and slack.of("chat.postEphemeral"))
    assert len(replies) == 2 and replies[0] == working and "next: /promote web:dev-" in replies[1]["text"]


def test_promote_approve_deploy_is_one_message_updated_in_place(
    server: SlackServer, slack: FakeSlack, world: tuple[Context, World]
) -> None:
    ctx, w = world
    built = w.developed(ctx)
    server.slash("U0DEV", "/promote", f"web:{built.tag} prod", slack.response_url(1))
    slack.wait_for(lambda: slack.of("response_url"))
    w.settle(ctx)
    server.reporter.drain()
    prod_posts = [b for b in slack.of("chat.postMessage") if b["channel"] == "#prod"]
    assert len(prod_posts) == 1 and "thread_ts" not in prod_posts[0]
    updates = slack.of("chat.update")
    waiting = updates[-1]
    ts = waiting["ts"]
    assert "awaiting approval" in waiting["text"]
    approve = _buttons(waiting)["Approve"]

    server.click("U0DEV", ts, approve, slack.response_url(2))  # the requester may not approve
    refused = slack.wait_for(lambda: [b for b in slack.of("response_url") if "cannot approve" in b.get("text", "")])
    assert refused[0]["response_type"] == "ephemeral"
    for _ in range(2):  # a double click approves once
        server.click("U0RM", ts, approve, slack.response_url(3))
    slack.wait_for(lambda: [b for b in slack.of("response_url") if "already handled" in b.get("text", "")])
    slack.wait_for(lambda: [b for b in slack.of("response_url") if "approved by release-manager" in b.get("text", "")])

    w.settle(ctx)
    w.builder.complete(ctx)
    w.settle(ctx)
    w.report(ctx, "prod")
    w.settle(ctx)
    server.reporter.drain()
    [op] = [op for op in queries.recent(ctx) if op.env == "prod"]
    assert op.state is State.SUCCEEDED and op.approvers == ["release-manager"]
    assert (op.chat_channel, op.chat_ts) == ("C0PROD", ts)
    mine = [b for b in slack.of("chat.update") if b["ts"] == ts]
    assert {b["channel"] for b in mine} == {"C0PROD"}
    assert "succeeded" in mine[-1]["text"] and "Rollback" in _buttons(mine[-1])
    thread = [b["text"] for b in slack.of("chat.postMessage") if b.get("thread_ts") == ts]
    assert any(t.startswith("deploying") for t in thread) and thread[-1].startswith("succeeded")
    assert len([b for b in slack.of("chat.postMessage") if b["channel"] == "#prod" and "thread_ts" not in b]) == 1
