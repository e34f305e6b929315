"""The `slack:` section: secrets named (never written in the YAML), channels, Socket Mode, and its mistakes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from promobot import bootstrap, config
from promobot.adapters.chat.slack.bot import SlackBot
from promobot.adapters.chat.slack.socket_mode import SocketModeRunner
from promobot.domain import errors
from promobot.service import reporting

Write = Callable[[object], Path]
SLACK = {
    "signing_secret": {"env": "PROMOBOT_TEST_SLACK_SIGNING"},
    "bot_token": {"file": "secrets/slack-bot"},
    "channels": {"default": "#deploys", "apps": {"api": "#api"}, "envs": {"prod": "#prod"}},
}

ENVIRONMENT = {
    "PROMOBOT_TEST_WEBHOOK_TOKEN": "hook",
    "PROMOBOT_TEST_BOB_TOKEN": "bob",
    "PROMOBOT_TEST_SLACK_SIGNING": "signing-secret",
    "PROMOBOT_TEST_SLACK_APP": "xapp-1",
}


@pytest.fixture
def build(write_config: Write, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, Any]], Any]]:
    """Load and wire a config; yields a function returning the wired Application."""
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    built: list[bootstrap.Application] = []

    def make(data: dict[str, Any]) -> Any:
        path = write_config(data)
        for name, secret in {"tokens/alice.token": "alice", "secrets/slack-bot": "xoxb-secret-bot-token"}.items():
            (path.parent / name).parent.mkdir(exist_ok=True)
            (path.parent / name).write_text(secret)
        built.append(bootstrap.build(config.load(str(path)), background=False))
        return built[-1]

    yield make
    for application in built:
        application.ctx.store.dispose()  # type: ignore[attr-defined]


def _load(write_config: Write, data: dict[str, Any]) -> config.Loaded:
    return config.load(str(write_config(data)))


def test_without_a_slack_section_there_is_no_slack_app_and_no_chat(settings: dict[str, Any], build: Any) -> None:
    application = build(settings)
    assert application.slack is None and application.chat is None


def test_a_slack_section_wires_the_app_over_http_and_reports_to_its_channels(
    settings: dict[str, Any], build: Any
) -> None:
    application = build({**settings, "slack": SLACK})
    assert isinstance(application.slack, SlackBot) and application.chat is not None
    assert any(isinstance(c, reporting.ChatReporter) for c in application.components)
    assert not any(isinstance(c, SocketModeRunner) for c in application.components)
    loaded = config.Settings.model_validate({**settings, "slack": SLACK}).slack
    assert loaded is not None and loaded.api_url == "https://slack.com/api/"
    channels = reporting.Channels(loaded.channels.default, loaded.channels.apps, loaded.channels.envs)
    where = [channels.of("web", "qa"), channels.of("api", "qa"), channels.of("api", "prod")]
    assert where == ["#deploys", "#api", "#prod"]


def test_an_app_token_turns_socket_mode_on(settings: dict[str, Any], build: Any) -> None:
    application = build({**settings, "slack": {**SLACK, "app_token": {"env": "PROMOBOT_TEST_SLACK_APP"}}})
    assert any(isinstance(c, SocketModeRunner) for c in application.components)


def test_slack_ids_of_users_are_read(settings: dict[str, Any], write_config: Write) -> None:
    settings["users"][0]["slack_id"] = "U0ALICE"
    loaded = _load(write_config, {**settings, "slack": SLACK})
    assert [u.slack_id for u in loaded.settings.users] == ["U0ALICE", None]


def test_two_users_with_one_slack_id_are_refused_in_one_line_naming_them(
    settings: dict[str, Any], write_config: Write
) -> None:
    for user in settings["users"]:
        user["slack_id"] = "U0SHARED"
    with pytest.raises(errors.ConfigError) as caught:
        _load(write_config, {**settings, "slack": SLACK})
    message = str(caught.value.message)
    assert "\n" not in message
    assert message.endswith("users: each slack_id must belong to one user; shared: U0SHARED (alice, bob)")


@pytest.mark.parametrize(
    ("change", "where", "expected"),
    [
        ({"signing_secret": "written-in-the-yaml"}, "slack.signing_secret", "valid dictionary"),
        ({"bot_token": {"env": "X", "file": "y"}}, "slack.bot_token", "give exactly one of `env`"),
        ({"channels": {}}, "slack.channels.default", "Field required"),
        ({"channels": {"default": ""}}, "slack.channels.default", "at least 1 character"),
        ({"api_url": "https://slack.com/api"}, "slack.api_url", "should match pattern"),
        ({"webhook": "https://hooks.slack.com/x"}, "slack.webhook", "Extra inputs are not permitted"),
    ],
    ids=["inline-secret", "two-sources", "no-default-channel", "empty-channel", "api-url-no-slash", "unknown-key"],
)
def test_slack_section_mistakes_name_the_key(
    settings: dict[str, Any], write_config: Write, change: dict[str, Any], where: str, expected: str
) -> None:
    with pytest.raises(errors.ConfigError) as caught:
        _load(write_config, {**settings, "slack": {**SLACK, **change}})
    assert f": {where}: " in caught.value.message and expected in caught.value.message


def test_a_slack_id_that_is_not_one_is_refused(settings: dict[str, Any], write_config: Write) -> None:
    settings["users"][0]["slack_id"] = "alice@example.com"
    with pytest.raises(errors.ConfigError, match=r"users\.0\.slack_id: String should match pattern"):
        _load(write_config, settings)


def test_a_missing_slack_secret_is_named_at_start_and_never_shown(
    settings: dict[str, Any], build: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMOBOT_TEST_SLACK_SIGNING")
    with pytest.raises(errors.ConfigError, match="PROMOBOT_TEST_SLACK_SIGNING") as caught:
        build({**settings, "slack": SLACK})
    assert "xoxb-secret-bot-token" not in str(caught.value)
