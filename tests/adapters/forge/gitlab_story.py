"""A promotion as promobot leaves it on GitLab: `prod` at some commit, a promotion branch one commit ahead."""

from __future__ import annotations

from dataclasses import dataclass

from forge_samples import BRANCH, PROJECT, PROMOTION_MESSAGE

from promobot import ports
from promobot.adapters.forge.gitlab import GitLabForge
from support.fake_gitlab import FakeGitLab


@dataclass(frozen=True)
class Promotion:
    base_head: str
    head_sha: str
    pull: ports.PullRequest


def opened(gitlab: FakeGitLab, forge: GitLabForge) -> Promotion:
    base_head = gitlab.commit("Initial prod")
    head = gitlab.commit(PROMOTION_MESSAGE, (base_head, gitlab.commit("feature work")))
    gitlab.push(PROJECT, "prod", base_head)
    gitlab.push(PROJECT, BRANCH, head)
    pull = forge.open_pull_request(app="web", branch=BRANCH, base="prod", head_sha=head, title="Promote", body="b")
    return Promotion(base_head, head, pull)


def merge(forge: GitLabForge, promotion: Promotion) -> None:
    forge.merge_pull_request(app="web", number=promotion.pull.number, base="prod", head_sha=promotion.head_sha)
