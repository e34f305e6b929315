"""Each state change of an operation has exactly one line in its Slack thread, none skipped: across a
restart in the middle of its changes, a reporter killed between posting a line and remembering it, and two
replicas reporting its changes in turn or at the same moment; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from promobot import ports
from promobot.adapters.chat.slack import web_api
from promobot.adapters.chat.slack.web_api import SlackChat
from promobot.domain import errors
from promobot.domain.operations import Operation, State, Step
from promobot.messages import operations
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


def _queued(ctx: Context, w: World) -> Operation:
    w.builder.complete(ctx, revision=w.push(ctx))  # built: an auto-deploy is queued
    [op] = queries.recent(ctx)
    return op


def _posted(ctx: Context, w: World, slack: FakeSlack) -> tuple[Operation, dict[int, int]]:
    """A queued operation reported once (its message and first line), and the reporter's count."""
    threaded: dict[int, int] = {}
    op = _queued(ctx, w)
    _report(ctx, slack_chat(slack), op, threaded)
    return op, threaded


def _change(ctx: Context, op: Operation, step: Step, message: str, state: State = State.RUNNING) -> Operation:
    """The operation moves on (saved as the worker would save it): one more change, one more line due."""
    with ctx.store.unit_of_work() as uow:
        current = uow.operations.get(op.id or 0)
        assert current is not None
        saved = uow.operations.save(current.move(state, step=step, message=message))
        uow.commit()
    return saved


def _report(ctx: Context, chat: ports.Chat, change: Operation, threaded: dict[int, int], **kw: Any) -> None:
    assert reporting.report(ctx.store, chat, ctx.pipeline, CHANNELS, change, threaded, **kw)


def _kill_at_line(n: int) -> Callable[[str], None]:
    """A checkpoint that kills the reporter right after it posted its `n`th thread line, before it notes it."""
    lines = 0

    def checkpoint(name: str) -> None:
        nonlocal lines
        if name == "chat.replied":
            lines += 1
            if lines == n:
                raise Killed(name)

    return checkpoint


def _thread(ctx: Context, slack: FakeSlack, op: Operation) -> list[str]:
    """The operation's thread as people see it now (deleted copies gone)."""
    with ctx.store.unit_of_work() as uow:
        stored = uow.operations.get(op.id or 0)
    assert stored is not None and stored.chat_ts
    return [m["text"] for m in slack.thread(stored.chat_channel, stored.chat_ts)]


def _due(ctx: Context, op: Operation) -> list[str]:
    """One line per change of the operation, in order."""
    with ctx.store.unit_of_work() as uow:
        return [operations.step(e).text for e in uow.operations.events(op.id or 0)]


def test_a_restart_in_the_middle_of_an_operations_changes_gives_each_line_once(
    world: tuple[Context, World], slack: FakeSlack
) -> None:
    ctx, w = world
    op, threaded = _posted(ctx, w, slack)
    _report(ctx, slack_chat(slack), _change(ctx, op, Step.AWAITING_ARTIFACT, "waiting for web:dev-1"), threaded)
    _change(ctx, op, Step.PINNED, "pinned")  # changed, then the process died with its report still queued
    assert len(_thread(ctx, slack, op)) == 2

    again = w.context(restart=True)
    after: dict[int, int] = {}
    _report(again, slack_chat(slack), _change(again, op, Step.DEPLOYING, "asked the engine to sync"), after)
    assert _thread(again, slack, op) == _due(again, op)  # the line the dead process never posted is there too
    _report(again, slack_chat(slack), _change(again, op, Step.DONE, "healthy", State.SUCCEEDED), after)
    assert _thread(again, slack, op) == _due(again, op)
    assert len(_due(again, op)) == 5


def test_a_reporter_killed_after_posting_a_line_before_noting_it_does_not_post_it_again(
    world: tuple[Context, World], slack: FakeSlack
) -> None:
    ctx, w = world
    op = _queued(ctx, w)
    _change(ctx, op, Step.REQUESTED, "started")
    change = _change(ctx, op, Step.AWAITING_ARTIFACT, "waiting for web:dev-1")
    with pytest.raises(Killed):  # its first report: the message, then three lines; killed after the second
        _report(ctx, slack_chat(slack), change, {}, checkpoint=_kill_at_line(2))
    assert _thread(ctx, slack, op) == _due(ctx, op)[:2]

    again = w.context(restart=True)
    _report(again, slack_chat(slack), change, {})  # the restarted server reports the same change again
    assert _thread(again, slack, op) == _due(again, op)
    _report(again, slack_chat(slack), change, {})  # and once more (say, a replica that was told of it too)
    assert _thread(again, slack, op) == _due(again, op)


def test_replicas_reporting_an_operations_changes_in_turn_post_each_line_once(
    world: tuple[Context, World], slack: FakeSlack
) -> None:
    ctx, w = world
    op = _queued(ctx, w)
    a, b = w.context(restart=True), w.context(restart=True)  # two processes on one database
    in_a: dict[int, int] = {}
    in_b: dict[int, int] = {}
    _report(a, slack_chat(slack), op, in_a)
    _report(b, slack_chat(slack), _change(b, op, Step.REQUESTED, "started"), in_b)
    _report(a, slack_chat(slack), _change(a, op, Step.AWAITING_ARTIFACT, "waiting for web:dev-1"), in_a)
    _report(b, slack_chat(slack), _change(b, op, Step.PINNED, "pinned"), in_b)
    _report(a, slack_chat(slack), _change(a, op, Step.DEPLOYING, "asked the engine to sync"), in_a)
    assert _thread(ctx, slack, op) == _due(ctx, op)
    assert len(_due(ctx, op)) == 5


class Racing(SlackChat):
    """A chat that, just before its first thread line, lets another replica report the operation in full."""

    def __init__(self, slack: FakeSlack, other: Callable[[], None]) -> None:
        super().__init__("xoxb-test", base_url=slack.base_url, attempts=2, sleep=lambda _: None)
        self.other: Callable[[], None] | None = other

    def reply(self, channel: str, thread_ts: str, message: ports.ChatMessage, *, key: str = "") -> ports.Posted:
        other, self.other = self.other, None
        if other is not None:
            other()
        return super().reply(channel, thread_ts, message, key=key)


def test_two_replicas_posting_the_same_lines_at_once_leave_one_copy_of_each(
    world: tuple[Context, World], slack: FakeSlack
) -> None:
    ctx, w = world
    op = _queued(ctx, w)
    _report(ctx, slack_chat(slack), op, {})
    a, b = w.context(restart=True), w.context(restart=True)
    _change(a, op, Step.REQUESTED, "started")
    change = _change(a, op, Step.AWAITING_ARTIFACT, "waiting for web:dev-1")
    # both read the thread (one line), then b posts the two missing lines, then a posts its copies of them
    _report(a, Racing(slack, lambda: _report(b, slack_chat(slack), change, {})), change, {})
    assert _thread(ctx, slack, op) == _due(ctx, op)
    assert len(slack.of("chat.delete")) == 2  # a's later copies


def test_a_restarted_reporter_completes_the_thread_of_an_operation_that_finished_meanwhile(
    world: tuple[Context, World], slack: FakeSlack
) -> None:
    ctx, w = world
    op = _queued(ctx, w)
    _report(ctx, slack_chat(slack), op, {})
    _change(ctx, op, Step.REQUESTED, "started")
    _change(ctx, op, Step.DONE, "healthy", State.SUCCEEDED)  # the process died before reporting these

    again = w.context(restart=True)
    reporter = reporting.ChatReporter(again.store, slack_chat(slack), again.pipeline, CHANNELS)
    reporter.start()  # the operation never changes again: the reporter brings recent messages up to date
    try:
        reporter.drain(10)
    finally:
        reporter.stop()
    assert _thread(again, slack, op) == _due(again, op)
    assert slack.latest_text(_stored_ts(again, op)).startswith("[succeeded]")


def _stored_ts(ctx: Context, op: Operation) -> str:
    with ctx.store.unit_of_work() as uow:
        stored = uow.operations.get(op.id or 0)
    assert stored is not None
    return stored.chat_ts


def test_the_thread_is_read_page_by_page_with_each_lines_key(slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_api, "HISTORY", 2)  # two messages a page: the parent and five replies take three
    chat = slack_chat(slack)
    parent = chat.post("#deploys", ports.ChatMessage("operation"), key="operation-7")
    keys = ["operation-7/1", "operation-7/2", "", "operation-7/3", "operation-7/4"]
    sent = [chat.reply(parent.channel, parent.ts, ports.ChatMessage(f"line {i}"), key=k) for i, k in enumerate(keys)]
    found = chat.thread(parent.channel, parent.ts)
    assert found == [ports.Replied(p.ts, k) for p, k in zip(sent, keys, strict=True)]
    assert len(slack.of("conversations.replies")) == 3
    assert all(q["include_all_metadata"] == "true" for q in slack.of("conversations.replies"))


def test_the_fake_shows_metadata_only_when_asked_as_slack_does(slack: FakeSlack) -> None:
    chat = slack_chat(slack)
    parent = chat.post("#deploys", ports.ChatMessage("operation"), key="operation-7")
    chat.reply(parent.channel, parent.ts, ports.ChatMessage("queued"), key="operation-7/1")
    plain = chat.client.conversations_replies(channel=parent.channel, ts=parent.ts).data
    assert isinstance(plain, dict) and all("metadata" not in m for m in plain["messages"])
    with_metadata = chat.client.conversations_replies(channel=parent.channel, ts=parent.ts, include_all_metadata=True)
    assert [m["metadata"]["event_payload"]["key"] for m in with_metadata["messages"]] == [
        "operation-7",
        "operation-7/1",
    ]


def test_deleting_a_line_already_deleted_is_no_error(slack: FakeSlack) -> None:
    chat = slack_chat(slack)
    parent = chat.post("#deploys", ports.ChatMessage("operation"))
    line = chat.reply(parent.channel, parent.ts, ports.ChatMessage("queued"), key="operation-7/1")
    chat.delete(line.channel, line.ts)
    chat.delete(line.channel, line.ts)  # another replica deleted it first
    assert chat.thread(parent.channel, parent.ts) == []


def test_a_reporter_told_of_every_change_posts_its_lines_without_reading_the_thread(
    world: tuple[Context, World], slack: FakeSlack
) -> None:
    ctx, w = world
    op, threaded = _posted(ctx, w, slack)
    for step, message in ((Step.REQUESTED, "started"), (Step.PINNED, "pinned"), (Step.DEPLOYING, "syncing")):
        _report(ctx, slack_chat(slack), _change(ctx, op, step, message), threaded)
    _report(ctx, slack_chat(slack), _change(ctx, op, Step.DONE, "healthy", State.SUCCEEDED), threaded)
    assert _thread(ctx, slack, op) == _due(ctx, op)
    assert slack.of("conversations.replies") == []  # Slack's rate limits: no read while the reporter knows
    assert threaded == {}  # a finished operation is forgotten


def test_a_line_whose_answer_was_lost_is_not_posted_again_by_a_reporter_that_knew_the_thread(
    world: tuple[Context, World], slack: FakeSlack
) -> None:
    ctx, w = world
    op, threaded = _posted(ctx, w, slack)
    slack.lost_answers["chat.postMessage"] = 1  # the next line is posted, but its answer never arrives
    change = _change(ctx, op, Step.REQUESTED, "started")
    with pytest.raises(errors.TemporaryError):
        _report(ctx, slack_chat(slack), change, threaded)
    assert _thread(ctx, slack, op) == _due(ctx, op)  # it landed, once: the adapter did not send it again

    _report(ctx, slack_chat(slack), _change(ctx, op, Step.PINNED, "pinned"), threaded)  # the next change
    assert _thread(ctx, slack, op) == _due(ctx, op)  # read the thread first: "started" is not there twice
