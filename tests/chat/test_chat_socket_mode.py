"""Slack in Socket Mode: envelopes over a real websocket from a fake Slack on loopback, acked by envelope id.

`apps.connections.open` on the fake Web API names the fake websocket endpoint; slack_sdk's built-in client
connects to it, and the test pushes envelopes as Slack would and reads the acks the client sends back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promobot import bootstrap, config
from promobot.adapters.chat.slack.socket_mode import SocketModeRunner
from promobot.service import queries
from promobot.service.context import Context
from support.fake_slack import FakeSlack
from support.fake_socket_mode import FakeSocketMode
from support.fakes import World, make_context
from support.slack_server import CHAT_USERS, SECRET


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Context, World]]:
    ctx, world = make_context(tmp_path / "world")
    try:
        yield ctx, world
    finally:
        world.close()


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeSlack, FakeSocketMode]]:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)  # the websocket client would go through a proxy
    web_api, socket = FakeSlack().start(), FakeSocketMode().start()
    web_api.socket_url = socket.url
    try:
        yield web_api, socket
    finally:
        socket.stop()
        web_api.stop()


@pytest.fixture
def connected(
    world: tuple[Context, World], slack: tuple[FakeSlack, FakeSocketMode], tmp_path: Path
) -> Iterator[bootstrap.Application]:
    """The Slack app wired from a `slack:` section with an app token, its parts started: it connects at once."""
    root = tmp_path / "server"
    root.mkdir()
    for name, secret in {"signing": SECRET, "bot": "xoxb-test-token", "app": "xapp-test-token"}.items():
        (root / name).write_text(secret + "\n")
    settings = config.SlackSettings.model_validate(
        {
            "signing_secret": {"file": "signing"},
            "bot_token": {"file": "bot"},
            "app_token": {"file": "app"},
            "channels": {"default": "#deploys"},
            "api_url": slack[0].base_url,
        }
    )
    loaded = config.Loaded.model_construct(settings=config.Settings.model_construct(), base=root, path=root)
    application = bootstrap.Application(ctx=world[0], loaded=loaded, tokens={}, webhook_token="unused")
    bootstrap.wire_slack(application, settings, root, CHAT_USERS)
    assert any(isinstance(c, SocketModeRunner) for c in application.components)
    for component in application.components:
        component.start()
    try:
        slack[1].wait_for(lambda: slack[1].connections)
        yield application
    finally:
        for component in reversed(application.components):
            component.stop()


def _slash(envelope_id: str, text: str, response_url: str) -> dict[str, Any]:
    payload = {
        "token": "unused-in-socket-mode",
        "team_id": "T0TEAM",
        "api_app_id": "A0APP",
        "channel_id": "C0DEPLOYS",
        "user_id": "U0DEV",
        "command": "/promote",
        "text": text,
        "response_url": response_url,
        "trigger_id": "trigger-socket-1",
    }
    return {"envelope_id": envelope_id, "type": "slash_commands", "accepts_response_payload": True, "payload": payload}


def _mention(envelope_id: str, event_id: str, retry: int) -> dict[str, Any]:
    event = {"type": "app_mention", "user": "U0DEV", "channel": "C0DEPLOYS", "text": "<@UBOT> promote web@development",
             "ts": "1.0"}  # fmt: skip
    payload = {"type": "event_callback", "team_id": "T0TEAM", "api_app_id": "A0APP", "event_id": event_id,
               "event_time": int(time.time()), "event": event}  # fmt: skip
    return {"envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False,
            "retry_attempt": retry, "retry_reason": "timeout" if retry else "", "payload": payload}  # fmt: skip


def test_a_slash_command_over_socket_mode_is_acked_and_starts_one_operation(
    connected: bootstrap.Application, slack: tuple[FakeSlack, FakeSocketMode], world: tuple[Context, World]
) -> None:
    ctx, w = world
    web_api, socket = slack
    built = w.developed(ctx)
    assert web_api.of("apps.connections.open"), "the client asked Slack where to connect"
    started = time.monotonic()
    socket.send(_slash("env-1", f"web:{built.tag} qa", web_api.response_url(1)))
    [ack] = socket.wait_for(lambda: socket.acks("env-1"), timeout=3)
    assert time.monotonic() - started < 3
    assert ack == {"envelope_id": "env-1", "payload": {"text": "Working on it…"}}
    [answer] = web_api.wait_for(lambda: web_api.of("response_url"))
    assert answer["text"].startswith("operation #2 started: Promote web:dev-")
    assert [op.kind for op in queries.recent(ctx)] == ["promote", "deploy"]

    socket.send(_slash("env-1", f"web:{built.tag} qa", web_api.response_url(2)))  # Slack delivers it again
    socket.wait_for(lambda: len(socket.acks("env-1")) == 2, timeout=3)
    again = web_api.wait_for(lambda: web_api.of("response_url")[1:])
    assert again[0]["text"].startswith("That click was already handled")
    assert [op.kind for op in queries.recent(ctx)] == ["promote", "deploy"]


def test_a_mention_retried_over_socket_mode_starts_one_operation_and_every_envelope_is_acked(
    connected: bootstrap.Application, slack: tuple[FakeSlack, FakeSocketMode], world: tuple[Context, World]
) -> None:
    ctx, w = world
    web_api, socket = slack
    w.developed(ctx)
    socket.send(_mention("env-a", "Ev0SOCKET", retry=0))
    socket.send(_mention("env-b", "Ev0SOCKET", retry=1))  # the same event, retried in a new envelope
    socket.wait_for(lambda: socket.acks("env-a") and socket.acks("env-b"), timeout=3)
    texts = web_api.wait_for(lambda: len(web_api.of("chat.postEphemeral")) >= 3 and web_api.of("chat.postEphemeral"))
    said = sorted(t["text"].split(":")[0] for t in texts)
    assert said == ["That click was already handled; nothing more was done. Type the command to do it again.",
                    "Working on it…", "operation #2 started"]  # fmt: skip
    assert [op.kind for op in queries.recent(ctx)] == ["promote", "deploy"]
