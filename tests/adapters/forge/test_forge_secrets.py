"""Forge tokens and webhook secrets never reach a log line, an exception's text, or another host."""

from __future__ import annotations

import logging

import pytest
from forge_samples import PROJECT, REPO
from github_story import opened

from promobot.adapters.forge import github_webhooks, gitlab_webhooks
from promobot.adapters.forge.github import GitHubForge
from promobot.adapters.forge.gitlab import GitLabForge
from promobot.domain import errors
from support.fake_github import FakeGitHub, webhook
from support.fake_gitlab import FakeGitLab


@pytest.fixture(autouse=True)
def _log_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


def test_github_failures_name_neither_the_token_nor_the_secret(
    github: FakeGitHub, github_forge: GitHubForge, caplog: pytest.LogCaptureFixture
) -> None:
    promotion = opened(github, github_forge)
    github_forge.review_state("web", 1)
    github.review(REPO, 1, "ana", "APPROVED")
    github.pulls[REPO][1].conflicts = True
    failures: list[errors.PromobotError] = []
    for attempt in (
        lambda: github_forge.merge_pull_request(app="web", number=1, base="prod", head_sha=promotion.head_sha),
        lambda: GitHubForge(api_url=github.base_url, token="ghp_wrong0token", repos={"web": REPO}).review_state(
            "web", 1
        ),
        lambda: github_webhooks.read("whsec-secret", {"X-Hub-Signature-256": "sha256=00"}, b"{}"),
        lambda: github_webhooks.read("whsec-secret", *webhook("whsec-other", "push", {})),
    ):
        with pytest.raises(errors.PromobotError) as caught:
            attempt()
        failures.append(caught.value)
    assert len(failures) == 4
    for secret in (github.token, "ghp_wrong0token", "whsec-secret", "whsec-other"):
        assert secret not in caplog.text
        assert all(secret not in f"{failure} {failure.hint}" for failure in failures)
    assert "405" in caplog.text  # the failures were logged, without secrets


def test_gitlab_failures_name_neither_the_token_nor_the_secret(
    gitlab: FakeGitLab, caplog: pytest.LogCaptureFixture
) -> None:
    forge = GitLabForge(api_url=gitlab.base_url + "/api/v4", token="glpat-wrong0token", projects={"web": PROJECT})
    with pytest.raises(errors.PermanentError) as refused:
        forge.review_state("web", 1)
    with pytest.raises(errors.NotAuthenticated) as forged:
        gitlab_webhooks.read("gl-hook-secret", {"X-Gitlab-Token": "gl-hook-guess"}, b"{}")
    forge.close()
    for secret in ("glpat-wrong0token", "gl-hook-secret", "gl-hook-guess"):
        assert secret not in caplog.text
        assert secret not in f"{refused.value} {forged.value}"


def test_the_token_is_never_sent_to_a_host_a_link_header_points_at(
    github: FakeGitHub, github_forge: GitHubForge
) -> None:
    opened(github, github_forge)
    for name in ("ana", "bo"):
        github.review(REPO, 1, name, "APPROVED")
    github.page_cap = 1
    github.base_url = github.base_url.replace("127.0.0.1", "127.0.0.2")  # the next page now lives elsewhere
    with pytest.raises(errors.PermanentError, match="another host"):
        github_forge.review_state("web", 1)
    assert all(r.headers.get("host", "").startswith("127.0.0.1") for r in github.requests)


def test_an_unreachable_forge_is_a_temporary_error() -> None:
    forge = GitHubForge(api_url="http://127.0.0.1:9", token="ghp_unreachable", repos={"web": REPO}, timeout=2)
    with pytest.raises(errors.TemporaryError, match="cannot reach GitHub") as caught:
        forge.review_state("web", 1)
    assert "ghp_unreachable" not in str(caught.value)
    forge.close()
