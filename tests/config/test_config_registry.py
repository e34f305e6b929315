"""The registry section: the embedded OCI layout by default, or any Distribution registry by URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from promobot import bootstrap, config
from promobot.adapters.registry.distribution import DistributionRegistry
from promobot.adapters.registry.oci_layout import OciLayoutRegistry
from promobot.domain import errors

Write = Callable[[object], Path]


@pytest.fixture
def build(write_config: Write, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, Any]], Any]]:
    """Load and wire a config; yields a function returning the wired registry."""
    monkeypatch.setenv("PROMOBOT_TEST_WEBHOOK_TOKEN", "hook")
    monkeypatch.setenv("PROMOBOT_TEST_BOB_TOKEN", "bob")
    built: list[bootstrap.Application] = []

    def make(data: dict[str, Any]) -> Any:
        path = write_config(data)
        (path.parent / "tokens").mkdir(exist_ok=True)
        (path.parent / "tokens" / "alice.token").write_text("alice")
        built.append(bootstrap.build(config.load(str(path)), background=False))
        return built[-1].ctx.registry

    yield make
    for application in built:
        application.ctx.store.dispose()  # type: ignore[attr-defined]


def test_a_distribution_registry_takes_a_url_and_credentials_from_a_token_source(
    settings: dict[str, Any], build: Callable[[dict[str, Any]], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMOBOT_TEST_REGISTRY_PASSWORD", "registry-password")
    settings["registry"] = {
        "kind": "distribution",
        "url": "https://registry.example.com",
        "username": "ci-bot",
        "password": {"env": "PROMOBOT_TEST_REGISTRY_PASSWORD"},
    }

    registry = build(settings)

    assert isinstance(registry, DistributionRegistry) and registry.base_url == "https://registry.example.com"
    assert "registry-password" not in repr(registry)
    registry.close()


def test_the_oci_layout_registry_stays_the_default(
    settings: dict[str, Any], build: Callable[[dict[str, Any]], Any]
) -> None:
    settings["registry"] = {"path": "registry"}

    assert isinstance(build(settings), OciLayoutRegistry)


@pytest.mark.parametrize(
    ("registry", "says"),
    [
        ({"kind": "distribution"}, "needs `url`"),
        ({"kind": "distribution", "url": "ftp://registry"}, "registry.url"),
        ({"kind": "distribution", "url": "https://u:p@registry"}, "registry.url"),
        ({"kind": "distribution", "url": "https://r", "username": "ci"}, "both `username` and `password`"),
        ({"kind": "oci-layout"}, "needs `path`"),
        ({"kind": "distribution", "url": "https://r", "password": "plain"}, "registry.password"),
    ],
)
def test_registry_mistakes_name_what_is_missing(
    settings: dict[str, Any], write_config: Write, registry: dict[str, Any], says: str
) -> None:
    settings["registry"] = registry

    with pytest.raises(errors.ConfigError, match=says.replace("`", ".")):
        config.load(str(write_config(settings)))
