"""A forge token kept in a file is read again on every request, so a rotated token needs no restart."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from forge_samples import PROJECT, REPO
from github_story import opened

from promobot.adapters.forge.github import GitHubForge
from promobot.adapters.forge.gitlab import GitLabForge
from promobot.domain import errors
from support.fake_github import FakeGitHub
from support.fake_gitlab import FakeGitLab

ROTATED_GITHUB = "ghs_installation0token0rotated"
ROTATED_GITLAB = "glpat-rotated0token0for0tests"


def test_github_uses_the_token_the_file_holds_now(github: FakeGitHub, tmp_path: Path) -> None:
    token_file = tmp_path / "github-token"
    token_file.write_text(github.token + "\n")
    forge = GitHubForge(api_url=github.base_url, token=token_file, repos={"web": REPO})
    opened(github, forge)
    assert forge.review_state("web", 1).approvals == []
    github.token = ROTATED_GITHUB  # GitHub now accepts only the refreshed installation token
    token_file.write_text(ROTATED_GITHUB + "\n")
    github.review(REPO, 1, "ana", "APPROVED")
    assert forge.review_state("web", 1).approvals == ["ana"]
    assert github.requests[-1].headers["authorization"] == f"Bearer {ROTATED_GITHUB}"
    forge.close()


def test_gitlab_uses_the_token_the_file_holds_now(gitlab: FakeGitLab, tmp_path: Path) -> None:
    token_file = tmp_path / "gitlab-token"
    token_file.write_text(gitlab.token)
    forge = GitLabForge(api_url=gitlab.base_url + "/api/v4", token=token_file, projects={"web": PROJECT})
    with pytest.raises(errors.UnknownOperation):  # the token was accepted: there is just no merge request yet
        forge.review_state("web", 1)
    gitlab.token = ROTATED_GITLAB
    token_file.write_text(ROTATED_GITLAB)
    with pytest.raises(errors.UnknownOperation):
        forge.review_state("web", 1)
    assert gitlab.requests[-1].headers["private-token"] == ROTATED_GITLAB
    forge.close()


def test_a_token_given_as_text_is_kept_while_the_forge_rotates(github: FakeGitHub) -> None:
    forge = GitHubForge(api_url=github.base_url, token=github.token, repos={"web": REPO})
    github.token = ROTATED_GITHUB
    with pytest.raises(errors.PermanentError, match="GitHub refused promobot's token"):
        forge.review_state("web", 1)
    forge.close()


def test_an_emptied_token_file_is_one_line_naming_the_file_and_nothing_is_sent(
    github: FakeGitHub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token_file = tmp_path / "github-token"
    token_file.write_text(github.token)
    forge = GitHubForge(api_url=github.base_url, token=token_file, repos={"web": REPO})
    token_file.write_text("  \n")
    with pytest.raises(errors.TemporaryError) as caught:  # a refresher rewriting it in place: try again soon
        forge.review_state("web", 1)
    assert str(caught.value) == (
        f"no GitHub token in {token_file}; "
        "the file must hold the forge's API token (promobot reads it again on every request and will try again)"
    )
    assert caught.value.retry_after == 2.0
    token_file.unlink()
    with pytest.raises(errors.TemporaryError, match="no GitHub token in"):
        forge.review_state("web", 1)
    assert github.requests == []
    assert github.token not in caplog.text
    forge.close()
