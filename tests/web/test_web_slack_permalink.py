"""The dashboard's operation page links to the operation's Slack thread (chat.getPermalink, asked once)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from promobot import bootstrap, config
from support.fake_slack import FakeSlack
from support.webapp import Web

CHANNEL, TS = "C0PROD", "1700000000.000042"
LINK = "https://promobot-test.slack.com/archives/C0PROD/p1700000000000042"


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    made = Web(tmp_path / "sandbox")
    yield made
    made.close()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _with_slack(web: Web, slack: FakeSlack) -> None:
    root = web.root / "slack"
    root.mkdir()
    (root / "signing").write_text("signing-secret\n")
    (root / "bot").write_text("xoxb-test-token\n")
    settings = config.SlackSettings.model_validate(
        {"signing_secret": {"file": "signing"}, "bot_token": {"file": "bot"}, "channels": {"default": "#deploys"},
         "api_url": slack.base_url}
    )  # fmt: skip
    bootstrap.wire_slack(web.application, settings, root, {})


def _posted(web: Web) -> int:
    """An operation whose chat message was posted (as the reporter records it); its id."""
    op = web.operation()
    assert op.id is not None
    with web.application.ctx.store.unit_of_work() as uow:
        uow.operations.set_chat_message(op.id, CHANNEL, TS)
        uow.commit()
    return op.id


def test_the_operation_page_links_to_its_slack_thread_and_asks_slack_once(web: Web, slack: FakeSlack) -> None:
    _with_slack(web, slack)
    number = _posted(web)
    web.sign_in()
    for _ in range(2):
        page = web.http.get(f"/operations/{number}").text
        assert f'<a href="{LINK}"' in page and "open the thread in Slack" in page
    assert slack.of("chat.getPermalink") == [{"channel": CHANNEL, "message_ts": TS}]


def test_an_operation_not_yet_posted_shows_no_link_and_asks_nothing(web: Web, slack: FakeSlack) -> None:
    _with_slack(web, slack)
    op = web.operation()
    web.sign_in()
    page = web.http.get(f"/operations/{op.id}").text
    assert "chat thread" not in page and slack.of("chat.getPermalink") == []


def test_without_slack_the_page_shows_no_chat_thread_at_all(web: Web) -> None:
    number = _posted(web)
    web.sign_in()
    page = web.http.get(f"/operations/{number}")
    assert page.status_code == 200 and "chat thread" not in page.text and TS not in page.text


def test_a_permalink_slack_refuses_leaves_the_page_without_a_link(web: Web, slack: FakeSlack) -> None:
    _with_slack(web, slack)
    slack.fail("chat.getPermalink", (200, "message_not_found"))
    number = _posted(web)
    web.sign_in()
    page = web.http.get(f"/operations/{number}")
    assert page.status_code == 200 and "chat thread" not in page.text
