"""PROMOBOT_PORT: several replicas on one host share one config, each on its own port; and what `serve` does
before it serves."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from promobot import config
from promobot.cli import serving
from promobot.cli.serving import with_port_override
from promobot.domain import errors
from promobot.sandbox import create


@pytest.fixture
def loaded(tmp_path: Path) -> config.Loaded:
    sandbox = create.sandbox(tmp_path / "sandbox", apps=["web"], envs=["development", "qa"], port=8470)
    return config.load(str(sandbox.config))


def test_the_port_variable_replaces_the_configured_port_and_nothing_else(loaded: config.Loaded) -> None:
    moved = with_port_override(loaded, "8471")
    assert moved.settings.server.port == 8471
    assert loaded.settings.server.port == 8470
    assert moved.settings.model_dump(exclude={"server"}) == loaded.settings.model_dump(exclude={"server"})


def test_an_empty_port_variable_keeps_the_configured_port(loaded: config.Loaded) -> None:
    assert with_port_override(loaded, "").settings.server.port == 8470


@pytest.mark.parametrize("value", ["abc", "0", "70000", "-1"])
def test_a_port_variable_that_is_not_a_port_is_refused_in_one_line(loaded: config.Loaded, value: str) -> None:
    with pytest.raises(errors.ConfigError, match=r"PROMOBOT_PORT=.* is not a port number"):
        with_port_override(loaded, value)


def test_serve_freezes_what_it_built_before_it_serves(loaded: config.Loaded, monkeypatch: pytest.MonkeyPatch) -> None:
    frozen: list[int] = []
    monkeypatch.setattr(serving.uvicorn, "run", lambda *args, **kwargs: frozen.append(gc.get_freeze_count()))
    monkeypatch.setattr(serving.bootstrap.Application, "claim", lambda self: None)
    monkeypatch.setattr(serving.logs, "configure", lambda: None)
    gc.unfreeze()
    try:
        serving.serve(loaded)
    finally:
        gc.unfreeze()
    assert len(frozen) == 1 and frozen[0] > 0  # the heap was frozen when uvicorn began serving
