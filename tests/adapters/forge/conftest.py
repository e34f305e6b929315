"""Fixtures for the forge adapters: the GitHub and GitLab contract fakes served on loopback, and forges on them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from forge_samples import PROJECT, REPO

from promobot.adapters.forge.github import GitHubForge
from promobot.adapters.forge.gitlab import GitLabForge
from support.fake_github import FakeGitHub
from support.fake_gitlab import FakeGitLab
from support.loopback_http import serve


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serve(FakeGitHub(repos=(REPO,))) as fake:
        assert isinstance(fake, FakeGitHub)
        yield fake


@pytest.fixture
def github_forge(github: FakeGitHub) -> Iterator[GitHubForge]:
    forge = GitHubForge(api_url=github.base_url, token=github.token, repos={"web": REPO})
    yield forge
    forge.close()


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with serve(FakeGitLab(projects=(PROJECT,))) as fake:
        assert isinstance(fake, FakeGitLab)
        yield fake


@pytest.fixture
def gitlab_forge(gitlab: FakeGitLab) -> Iterator[GitLabForge]:
    forge = GitLabForge(api_url=gitlab.base_url + "/api/v4", token=gitlab.token, projects={"web": PROJECT})
    yield forge
    forge.close()
