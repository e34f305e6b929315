"""A promotion as promobot leaves it on GitHub: `prod` at some commit, a promotion branch one commit ahead."""

from __future__ import annotations

from dataclasses import dataclass

from forge_samples import BRANCH, PROMOTION_MESSAGE, REPO

from promobot import ports
from promobot.adapters.forge.github import GitHubForge
from support.fake_github import FakeGitHub


@dataclass(frozen=True)
class Promotion:
    base_head: str
    head_sha: str
    pull: ports.PullRequest


def branches(github: FakeGitHub) -> tuple[str, str]:
    base_head = github.commit("Initial prod")
    head = github.commit(PROMOTION_MESSAGE, (base_head, github.commit("feature work")))
    github.push(REPO, "prod", base_head)
    github.push(REPO, BRANCH, head)
    return base_head, head


def opened(github: FakeGitHub, forge: GitHubForge) -> Promotion:
    base_head, head = branches(github)
    pull = forge.open_pull_request(
        app="web", branch=BRANCH, base="prod", head_sha=head, title="Promote web:staging-1a2b3c4 to prod", body="b"
    )
    return Promotion(base_head, head, pull)
