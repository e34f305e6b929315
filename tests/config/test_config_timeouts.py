"""The `timeouts` section: how long the worker waits on the world, read into the Context the worker uses, and
each bad value refused in one line naming the key and what would be right."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from promobot import bootstrap, config
from promobot.domain import errors
from promobot.service.context import Timeouts

Write = Callable[[object], Path]
SECONDS = "must be a number of seconds above 0 and at most 604800 (a week), e.g. 30; got"
RESYNCS = "must be a whole number from 0 (fail without asking again) to 100, e.g. 5; got"


@pytest.fixture
def built(write_config: Write, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any]], Timeouts]:
    """The Timeouts of the application the bootstrap builds from `settings`."""
    monkeypatch.setenv("PROMOBOT_TEST_WEBHOOK_TOKEN", "hook")
    monkeypatch.setenv("PROMOBOT_TEST_BOB_TOKEN", "bob")

    def build(settings: dict[str, Any]) -> Timeouts:
        path = write_config(settings)
        (path.parent / "tokens").mkdir(exist_ok=True)
        (path.parent / "tokens" / "alice.token").write_text("alice")
        application = bootstrap.build(config.load(str(path)), background=False)
        try:
            return application.ctx.timeouts
        finally:
            application.ctx.store.dispose()  # type: ignore[attr-defined]

    return build


def test_without_a_timeouts_section_the_worker_waits_as_documented(
    settings: dict[str, Any], built: Callable[[dict[str, Any]], Timeouts]
) -> None:
    assert built(settings) == Timeouts(
        artifact=timedelta(minutes=10), deployment=timedelta(minutes=5), resync=timedelta(seconds=30), resyncs=5
    )


def test_the_timeouts_section_reaches_the_worker(
    settings: dict[str, Any], built: Callable[[dict[str, Any]], Timeouts]
) -> None:
    settings["timeouts"] = {"artifact_seconds": 1200, "deployment_seconds": 90, "resync_seconds": 12.5,
                            "resyncs": 2}  # fmt: skip
    assert built(settings) == Timeouts(
        artifact=timedelta(minutes=20), deployment=timedelta(seconds=90), resync=timedelta(seconds=12.5), resyncs=2
    )


def test_zero_resyncs_is_accepted_and_fails_without_asking_again(settings: dict[str, Any], write_config: Write) -> None:
    settings["timeouts"] = {"resyncs": 0, "resync_seconds": 604800}
    loaded = config.load(str(write_config(settings)))
    assert (loaded.settings.timeouts.resyncs, loaded.settings.timeouts.resync_seconds) == (0, 604800.0)


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("resync_seconds", 0, f"{SECONDS} 0"),
        ("resync_seconds", -30, f"{SECONDS} -30"),
        ("resync_seconds", "30s", f"{SECONDS} '30s'"),
        ("resync_seconds", True, f"{SECONDS} True"),
        ("resync_seconds", None, f"{SECONDS} None"),
        ("resync_seconds", float("inf"), f"{SECONDS} inf"),
        ("resync_seconds", 604801, f"{SECONDS} 604801"),
        ("resync_seconds", [30], f"{SECONDS} [30]"),
        ("artifact_seconds", 0, f"{SECONDS} 0"),
        ("deployment_seconds", -1.5, f"{SECONDS} -1.5"),
        ("resyncs", -1, f"{RESYNCS} -1"),
        ("resyncs", 2.5, f"{RESYNCS} 2.5"),
        ("resyncs", "3", f"{RESYNCS} '3'"),
        ("resyncs", False, f"{RESYNCS} False"),
        ("resyncs", 101, f"{RESYNCS} 101"),
        ("resync", 30, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_timeout_is_one_line_naming_the_key_and_what_would_be_right(
    settings: dict[str, Any], write_config: Write, key: str, value: object, says: str
) -> None:
    settings["timeouts"] = {key: value}
    path = write_config(settings)

    with pytest.raises(errors.ConfigError) as caught:
        config.load(str(path))

    assert str(caught.value) == f"{path}: timeouts.{key}: {says}"
    assert "\n" not in str(caught.value)


def test_a_timeouts_section_that_is_not_a_mapping_is_named(settings: dict[str, Any], write_config: Write) -> None:
    settings["timeouts"] = 30
    path = write_config(settings)
    with pytest.raises(errors.ConfigError, match=r"timeouts: Input should be a valid dictionary"):
        config.load(str(path))
