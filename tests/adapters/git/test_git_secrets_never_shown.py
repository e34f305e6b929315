"""Git credentials never show: a promobot built from a config whose repositories sit behind HTTPS with a token
fails to reach them with a wrong token, and neither the token nor the right one appears in a log line, an
API error, an exception, git's argv (which `ps` shows) or any file of promobot's state.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promobot.domain import errors
from support import git_http
from support.git_http import GitHttpServer
from support.webapp import Web

RIGHT = "ghs_Right0Installation0Token0Zq9"
WRONG = "ghs_Stale0Installation0Token0Zq9"
VARIABLE = "PROMOBOT_TEST_GIT_TOKEN"


@pytest.fixture
def git_argv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every git command line promobot runs, recorded by a `git` first on PATH that then runs the real one."""
    record = tmp_path / "git-argv.log"
    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    real = "/usr/bin/git" if Path("/usr/bin/git").exists() else "git"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{record}"\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")
    return record


@pytest.fixture
def behind_https(tmp_path: Path) -> Iterator[GitHttpServer]:
    with git_http.serve(GitHttpServer(tmp_path / "sandbox" / "git", username="x-access-token", token=RIGHT)) as s:
        yield s


def test_a_wrong_git_token_is_reported_everywhere_without_any_secret(
    behind_https: GitHttpServer,
    git_argv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(VARIABLE, WRONG)

    def over_https(settings: dict[str, Any], root: Path) -> None:
        settings["apps"][0]["repository"] = behind_https.url("web.git")
        settings["gitops"]["repository"] = behind_https.url("gitops.git")
        settings["git"] = {
            "credentials": [
                {"url": behind_https.base_url + "/", "username": "x-access-token", "password": {"env": VARIABLE}}
            ]
        }

    web = Web(tmp_path / "sandbox", apps=("web",), configure=over_https)
    try:
        web.deployed("web", "development", web.source())
        answer = web.get("/api/diff/development/qa")  # qa runs nothing: its branch is fetched
        failures: list[str] = []
        for attempt in (web.application.ctx.repos["web"].refresh, web.application.ctx.gitops.read_pins):
            with pytest.raises(errors.PromobotError) as caught:
                attempt()
            failures.append(f"{caught.value} {caught.value.hint}")
    finally:
        web.close()

    assert answer.status_code == 503, answer.text
    assert "Authentication failed" in answer.json()["error"]["message"]
    assert all("Authentication failed" in failure for failure in failures)
    assert any(seen.authorization for seen in behind_https.requests)  # the wrong token did reach the server
    out, err = capfd.readouterr()
    argv = git_argv.read_text()
    assert "fetch" in argv
    state = [p.read_bytes() for p in (tmp_path / "sandbox").rglob("*") if p.is_file()]
    for secret in (RIGHT, WRONG):
        for where, text in [("log", caplog.text), ("stdout", out), ("stderr", err), ("argv", argv)]:
            assert secret not in text, f"a secret in {where}"
        assert secret not in answer.text and all(secret not in failure for failure in failures)
        assert not [blob for blob in state if secret.encode() in blob]
