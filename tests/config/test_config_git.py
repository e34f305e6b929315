"""`git.credentials` (HTTPS token or SSH key per repository URL prefix) and a database URL from a token source:
each mistake is one line naming the key, and no secret is ever echoed back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from promobot import bootstrap, config
from promobot.adapters.git.credentials import Https, Ssh
from promobot.domain import errors

HTTPS = {"url": "https://github.com/example/", "username": "x-access-token", "password": {"file": "git/token"}}
SSH = {"url": "git@gitlab.example.com:platform/", "ssh_key": "git/id_ed25519", "known_hosts": "git/known_hosts"}


def load(write_config: Callable[[object], Path], data: dict[str, Any]) -> config.Loaded:
    return config.load(str(write_config(data)))


def test_https_and_ssh_credentials_load_with_strict_host_key_checking_on_by_default(
    settings: dict[str, Any], write_config: Callable[[object], Path]
) -> None:
    settings["git"] = {"credentials": [HTTPS, SSH]}
    https, ssh = load(write_config, settings).settings.git.credentials
    assert (https.username, https.password, https.ssh) == ("x-access-token", config.TokenSource(file="git/token"), 0)
    assert (ssh.ssh_key, ssh.known_hosts, ssh.strict_host_key_checking, ssh.ssh) == (
        "git/id_ed25519",
        "git/known_hosts",
        True,
        True,
    )


@pytest.mark.parametrize(
    ("credential", "expected"),
    [
        ({**SSH, "known_hosts": None}, "git.credentials.0: an ssh credential needs `known_hosts`"),
        ({"url": SSH["url"], "known_hosts": "kh"}, "git.credentials.0: an ssh credential needs `ssh_key`"),
        ({**SSH, "username": "git"}, "git.credentials.0: an ssh credential takes `ssh_key` and `known_hosts`"),
        ({**HTTPS, "password": None}, "git.credentials.0: an https credential needs `username` and `password`"),
        ({**HTTPS, "ssh_key": "k"}, "git.credentials.0: an https credential takes `username` and `password`"),
        ({**HTTPS, "password": "ghp_inline0secret"}, "git.credentials.0.password: Input should be"),
        ({**HTTPS, "url": "ftp://github.com/"}, "git.credentials.0.url: must be the start of repository URLs"),
        ({**HTTPS, "url": "https://u:p@github.com/"}, "git.credentials.0.url: must be the start of repository URLs"),
        ({**HTTPS, "username": "a:b"}, "git.credentials.0.username: String should match pattern"),
        ({**HTTPS, "url": "http://git.example.com/"}, "git.credentials.0: `url` must be https:// (plain http://"),
        ({**HTTPS, "token": {"env": "X"}}, "git.credentials.0.token: Extra inputs are not permitted"),
    ],
)
def test_a_credential_mistake_is_one_line_naming_its_key(
    settings: dict[str, Any], write_config: Callable[[object], Path], credential: dict[str, Any], expected: str
) -> None:
    settings["git"] = {"credentials": [{k: v for k, v in credential.items() if v is not None}]}
    with pytest.raises(errors.ConfigError) as caught:
        load(write_config, settings)
    message = str(caught.value)
    assert "\n" not in message
    assert message.split(": ", 1)[1].startswith(expected)
    assert "ghp_inline0secret" not in message


def test_strict_host_key_checking_off_needs_no_known_hosts(
    settings: dict[str, Any], write_config: Callable[[object], Path]
) -> None:
    settings["git"] = {"credentials": [{"url": SSH["url"], "ssh_key": "k", "strict_host_key_checking": False}]}
    assert load(write_config, settings).settings.git.credentials[0].known_hosts is None


def test_plain_http_is_allowed_on_loopback_only(
    settings: dict[str, Any], write_config: Callable[[object], Path]
) -> None:
    settings["git"] = {"credentials": [{**HTTPS, "url": "http://127.0.0.1:8080/"}]}
    assert load(write_config, settings).settings.git.credentials[0].url == "http://127.0.0.1:8080/"


def test_the_same_url_twice_is_refused(settings: dict[str, Any], write_config: Callable[[object], Path]) -> None:
    settings["git"] = {"credentials": [HTTPS, HTTPS]}
    with pytest.raises(errors.ConfigError, match=r"git.credentials: each credential url must be unique"):
        load(write_config, settings)


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("apps.1.repository", "https://x-access-token:ghp_inline0secret@github.com/example/api.git"),
        ("apps.1.repository", "https://ghp_inline0secret@github.com/example/api.git"),
        ("apps.1.repository", "ssh://git:ghp_inline0secret@github.com/example/api.git"),
        ("gitops.repository", "https://oauth2:ghp_inline0secret@gitlab.com/example/gitops.git"),
    ],
)
def test_a_repository_url_holding_credentials_is_refused_without_echoing_them(
    settings: dict[str, Any], write_config: Callable[[object], Path], key: str, url: str
) -> None:
    section, *rest = key.split(".")
    target = settings[section][int(rest[0])] if section == "apps" else settings[section]
    target["repository"] = url
    with pytest.raises(errors.ConfigError) as caught:
        load(write_config, settings)
    assert f": {key}: must not hold credentials; give them under `git.credentials`" in str(caught.value)
    assert "ghp_inline0secret" not in str(caught.value)


@pytest.mark.parametrize("url", ["ssh://git@github.com/example/api.git", "git@github.com:example/api.git"])
def test_an_ssh_user_in_a_repository_url_is_fine(
    settings: dict[str, Any], write_config: Callable[[object], Path], url: str
) -> None:
    settings["apps"][1]["repository"] = url
    assert load(write_config, settings).settings.apps[1].repository == url


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"env": "PROMOBOT_DATABASE_URL"}, None),
        ({"file": "/run/secrets/database-url"}, None),
        ({"env": "1bad"}, "database.env: String should match pattern"),
        ({}, "database: give exactly one of `env` (a variable name) or `file` (a path)"),
        (5, "database: must be a database URL, or a token source"),
        ("", "database: String should have at least 1 character"),
    ],
)
def test_the_database_url_may_come_from_a_token_source(
    settings: dict[str, Any], write_config: Callable[[object], Path], value: object, expected: str | None
) -> None:
    settings["database"] = value
    if expected is None:
        assert load(write_config, settings).settings.database == config.TokenSource.model_validate(value)
        return
    with pytest.raises(errors.ConfigError) as caught:
        load(write_config, settings)
    assert str(caught.value).split(": ", 1)[1].startswith(expected)


# --- files and secrets, checked when promobot is built from the config ------------------------------------


@pytest.fixture
def buildable(settings: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The valid config with every token it names present, so only the git part can fail."""
    (tmp_path / "tokens").mkdir()
    (tmp_path / "tokens" / "alice.token").write_text("alice-token")
    monkeypatch.setenv("PROMOBOT_TEST_WEBHOOK_TOKEN", "webhook-token")
    monkeypatch.setenv("PROMOBOT_TEST_BOB_TOKEN", "bob-token")
    (tmp_path / "git").mkdir()
    for name in ("token", "id_ed25519", "known_hosts"):
        (tmp_path / "git" / name).write_text(f"{name} contents\n")
    settings["git"] = {"credentials": [HTTPS, SSH]}
    return settings


def build(write_config: Callable[[object], Path], data: dict[str, Any]) -> bootstrap.Application:
    application = bootstrap.build(load(write_config, data), background=False)
    application.ctx.store.dispose()  # type: ignore[attr-defined]
    return application


def test_the_repositories_get_the_credential_of_the_longest_matching_url(
    buildable: dict[str, Any], write_config: Callable[[object], Path], tmp_path: Path
) -> None:
    buildable["apps"][1]["repository"] = "https://github.com/example/api.git"
    buildable["gitops"]["repository"] = "git@gitlab.example.com:platform/gitops.git"
    buildable["git"]["credentials"].append({**HTTPS, "url": "https://github.com/", "username": "someone-else"})
    ctx = build(write_config, buildable).ctx

    api = ctx.repos["api"].mirror.credential  # type: ignore[attr-defined]
    assert isinstance(api, Https) and (api.username, api.password()) == ("x-access-token", "token contents")
    gitops = ctx.gitops.mirror.credential  # type: ignore[attr-defined]
    assert gitops == Ssh(tmp_path / "git" / "id_ed25519", tmp_path / "git" / "known_hosts", strict=True)
    assert ctx.repos["web"].mirror.credential is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ("known_hosts", "git.credentials.1.known_hosts: no file at {path}; mount the servers' host keys there"),
        ("id_ed25519", "git.credentials.1.ssh_key: no file at {path}; mount the private key there (mode 0400)"),
        ("token", "git.credentials.0.password: no token in file {path}; set it, or point the config at"),
    ],
)
def test_a_missing_git_secret_file_stops_promobot_with_one_line_naming_the_key(
    buildable: dict[str, Any], write_config: Callable[[object], Path], tmp_path: Path, missing: str, expected: str
) -> None:
    (tmp_path / "git" / missing).unlink()
    with pytest.raises(errors.ConfigError) as caught:
        build(write_config, buildable)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'promobot.yaml'}: " + expected.format(path=tmp_path / "git" / missing))


def test_the_database_url_is_read_from_the_environment_when_promobot_is_built(
    buildable: dict[str, Any], write_config: Callable[[object], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMOBOT_TEST_DATABASE_FROM_SECRET", f"sqlite:///{tmp_path / 'from-secret.db'}")
    buildable["database"] = {"env": "PROMOBOT_TEST_DATABASE_FROM_SECRET"}
    application = build(write_config, buildable)
    assert application.ctx.store.engine.url.database == str(tmp_path / "from-secret.db")  # type: ignore[attr-defined]
