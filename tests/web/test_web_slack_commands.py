"""`POST /api/commands`: the chat grammar for API users (the console chat), answered as rendered text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from promobot.service.context import Context
from support.fake_slack import FakeSlack
from support.fakes import World, make_context
from support.slack_server import SlackServer


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Context, World, SlackServer]]:
    ctx, world = make_context(tmp_path / "world")
    slack = FakeSlack().start()
    server = SlackServer(ctx, tmp_path / "server", slack).start()
    server.application.tokens["token-of-developer"] = ctx.users["developer"]
    try:
        yield ctx, world, server
    finally:
        server.stop()
        slack.stop()
        world.close()


def _say(server: SlackServer, text: str) -> httpx.Response:
    headers = {"Authorization": "Bearer token-of-developer"}
    return httpx.post(server.url + "/api/commands", json={"text": text}, headers=headers, timeout=10)


def test_a_typed_promote_starts_an_operation_and_answers_with_text(setup: tuple[Context, World, SlackServer]) -> None:
    ctx, world, server = setup
    built = world.developed(ctx)
    answer = _say(server, f"/promote web:{built.tag} qa")
    assert answer.status_code == 200
    body = answer.json()
    assert body["text"].startswith("operation #2 started: Promote web:dev-")
    assert body["operation"]["env"] == "qa" and body["operation"]["state"] == "queued"


def test_a_bad_command_answers_with_the_usage_and_changes_nothing(setup: tuple[Context, World, SlackServer]) -> None:
    _, _, server = setup
    body = _say(server, "/promote --force prod").json()
    assert body["text"].startswith("Refused: promote:") and "/promote ARTIFACT [ENV]" in body["text"]
    assert body["operation"] is None


def test_commands_need_an_api_token(setup: tuple[Context, World, SlackServer]) -> None:
    _, _, server = setup
    assert httpx.post(server.url + "/api/commands", json={"text": "/list"}, timeout=10).status_code == 401
