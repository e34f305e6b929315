"""Loading a configuration: where it is found, what a valid one yields, and failures reading the file."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from promobot import config
from promobot.domain import errors
from promobot.domain.pipeline import App, Approval, ApprovalRule, Environment


def test_a_full_valid_config_loads_into_the_pipeline_it_describes(
    settings: dict[str, Any], write_config: Callable[[object], Path]
) -> None:
    loaded = config.load(str(write_config(settings)))
    pipeline = loaded.settings.pipeline()
    assert pipeline.env_names == ["development", "qa", "prod"]
    assert pipeline.env("development") == Environment(
        "development", "develop", "dev", auto_deploy=True, approval=Approval(ApprovalRule.NONE, 1, frozenset()),
        promoters=frozenset({"developer"}),
    )  # fmt: skip
    assert pipeline.env("qa").promoters == frozenset({"developer", "tester"})
    assert not pipeline.env("qa").auto_deploy
    assert pipeline.env("prod").branch == "release/prod"
    assert pipeline.env("prod").approval == Approval(
        ApprovalRule.PULL_REQUEST, 2, frozenset({"release-manager", "cto"})
    )
    assert pipeline.env("prod").approval.required
    assert pipeline.apps == (
        App("web", "git/web.git", "web"),
        App("api", "https://example.invalid/api.git", "team/api"),
    )
    assert pipeline.next_after(pipeline.env("qa")).name == "prod"


def test_a_valid_config_keeps_every_other_setting(
    settings: dict[str, Any], write_config: Callable[[object], Path]
) -> None:
    loaded = config.load(str(write_config(settings))).settings
    assert loaded.gitops.path == "clusters/{env}/{app}/kustomization.yaml"
    assert loaded.engine.poll_seconds == 0.5
    assert loaded.server.port == 8471
    assert loaded.server.webhook_token.env == "PROMOBOT_TEST_WEBHOOK_TOKEN"
    assert [u.name for u in loaded.users] == ["alice", "bob"]
    assert loaded.apps[1].command == ["python3", "-m", "api"]


def test_optional_settings_take_their_documented_defaults(
    settings: dict[str, Any], write_config: Callable[[object], Path]
) -> None:
    for key in ("builder", "database", "state_dir"):
        del settings[key]
    del settings["gitops"]["branch"], settings["gitops"]["path"]
    del settings["server"]["host"], settings["server"]["port"]
    loaded = config.load(str(write_config(settings))).settings
    assert loaded.builder.kind == "local"
    assert loaded.database == "sqlite:///promobot.db"
    assert loaded.state_dir == ".promobot"
    assert (loaded.gitops.branch, loaded.gitops.path) == ("main", "{env}/{app}/kustomization.yaml")
    assert (loaded.server.host, loaded.server.port) == ("127.0.0.1", 8470)
    assert loaded.apps[0].command == ["python3", "app.py"]


def test_relative_paths_resolve_against_the_config_files_directory(
    settings: dict[str, Any], write_config: Callable[[object], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(settings)
    monkeypatch.chdir(path.parent.parent)
    loaded = config.load(f"{path.parent.name}/{path.name}")
    assert loaded.path == path.resolve()
    assert loaded.base == tmp_path.resolve()
    assert loaded.resolve("registry") == tmp_path.resolve() / "registry"
    assert loaded.resolve("/var/lib/promobot") == Path("/var/lib/promobot")


def test_locate_prefers_the_explicit_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.ENV_VAR, "/etc/from-env.yaml")
    assert config.locate("/etc/explicit.yaml") == Path("/etc/explicit.yaml")


def test_locate_falls_back_to_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMOBOT_CONFIG", "/etc/from-env.yaml")
    assert config.locate(None) == Path("/etc/from-env.yaml")


@pytest.mark.parametrize("env_value", [None, ""])
def test_locate_falls_back_to_promobot_yaml_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, env_value: str | None
) -> None:
    if env_value is None:
        monkeypatch.delenv("PROMOBOT_CONFIG", raising=False)
    else:
        monkeypatch.setenv("PROMOBOT_CONFIG", env_value)
    assert config.locate(None) == Path("promobot.yaml")


def test_load_reads_the_file_the_environment_variable_names(
    settings: dict[str, Any], write_config: Callable[[object], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(settings)
    monkeypatch.setenv("PROMOBOT_CONFIG", str(path))
    assert config.load().path == path.resolve()


def test_load_reads_promobot_yaml_from_the_working_directory_by_default(
    settings: dict[str, Any], write_config: Callable[[object], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(settings)
    monkeypatch.delenv("PROMOBOT_CONFIG", raising=False)
    monkeypatch.chdir(path.parent)
    assert config.load().path == path.resolve()


def test_the_explicit_path_wins_over_a_broken_one_in_the_environment(
    settings: dict[str, Any], write_config: Callable[[object], Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMOBOT_CONFIG", str(tmp_path / "missing.yaml"))
    assert config.load(str(write_config(settings))).settings.users[0].name == "alice"


def test_a_missing_config_file_says_how_to_provide_one(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "promobot.yaml"
    with pytest.raises(errors.ConfigError) as caught:
        config.load(str(missing))
    text = str(caught.value)
    assert text.startswith(f"no config file at {missing}; ")
    for hint in ("--config", "PROMOBOT_CONFIG", "promobot sandbox"):
        assert hint in text


@pytest.mark.parametrize("kind", ["directory", "non-utf8"])
def test_a_config_path_that_cannot_be_read_as_text_is_a_config_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "promobot.yaml"
    if kind == "directory":
        path.mkdir()
    else:
        path.write_bytes(b"\xff\xfeenvironments: []\n")
    with pytest.raises(errors.ConfigError, match=re.escape(str(path))):
        config.load(str(path))
