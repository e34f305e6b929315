"""The GitHub forge merges an approved pull request only at the head promobot expects, or waits for a person."""

from __future__ import annotations

import pytest
from forge_samples import BRANCH, PROMOTION_MESSAGE, REPO
from github_story import Promotion, opened

from promobot.adapters.forge.github import GitHubForge
from promobot.domain import errors
from support.fake_github import FakeGitHub


def _approved(github: FakeGitHub, forge: GitHubForge) -> Promotion:
    promotion = opened(github, forge)
    github.review(REPO, promotion.pull.number, "ana", "APPROVED")
    return promotion


def _merge(forge: GitHubForge, promotion: Promotion) -> None:
    forge.merge_pull_request(app="web", number=promotion.pull.number, base="prod", head_sha=promotion.head_sha)


def _ready(github: FakeGitHub, forge: GitHubForge) -> Promotion:
    """Approved, and GitHub has finished computing mergeability (the first read sees null)."""
    promotion = _approved(github, forge)
    assert forge.review_state("web", promotion.pull.number).mergeable is None
    assert forge.review_state("web", promotion.pull.number).mergeable is True
    return promotion


def test_merge_sends_the_expected_head_and_the_promotion_message(github: FakeGitHub, github_forge: GitHubForge) -> None:
    promotion = _ready(github, github_forge)
    _merge(github_forge, promotion)
    merge = github.merges[-1]
    assert merge["sha"] == promotion.head_sha
    assert merge["merge_method"] == "merge"
    assert merge["commit_title"] == "Promote web:staging-1a2b3c4 to prod"
    assert "Promobot-Operation: 7" in merge["commit_message"]
    prod = github.branches[REPO]["prod"]
    assert github.commits[prod]["parents"] == [promotion.base_head, promotion.head_sha]
    assert github.commits[prod]["message"].strip() == PROMOTION_MESSAGE.strip()
    assert github_forge.review_state("web", promotion.pull.number).merged


def test_merge_of_a_merged_pull_request_changes_nothing(github: FakeGitHub, github_forge: GitHubForge) -> None:
    promotion = _ready(github, github_forge)
    _merge(github_forge, promotion)
    _merge(github_forge, promotion)
    assert len(github.merges) == 1


def test_merge_while_github_computes_mergeability_is_retried_later(
    github: FakeGitHub, github_forge: GitHubForge
) -> None:
    promotion = _approved(github, github_forge)
    with pytest.raises(errors.TemporaryError, match="still working out") as caught:
        _merge(github_forge, promotion)
    assert caught.value.retry_after > 0
    assert github.merges == []
    _merge(github_forge, promotion)  # the second read sees mergeable true
    assert github.pulls[REPO][promotion.pull.number].merged


def test_merge_refused_when_the_head_moved_is_temporary_and_merges_nothing(
    github: FakeGitHub, github_forge: GitHubForge
) -> None:
    promotion = _ready(github, github_forge)
    intruder = github.commit("sneaky change", (promotion.head_sha,))
    github.push(REPO, BRANCH, intruder)
    github_forge.review_state("web", promotion.pull.number)  # GitHub recomputes mergeability after the push
    with pytest.raises(errors.TemporaryError, match="no longer") as caught:
        _merge(github_forge, promotion)
    assert "Head branch was modified" in str(caught.value)
    assert github.branches[REPO]["prod"] == promotion.base_head


def test_merge_refused_as_not_mergeable_is_temporary(github: FakeGitHub, github_forge: GitHubForge) -> None:
    promotion = _ready(github, github_forge)
    github.pulls[REPO][promotion.pull.number].conflicts = True
    with pytest.raises(errors.TemporaryError, match="will not merge") as caught:
        _merge(github_forge, promotion)
    assert "not mergeable" in str(caught.value)
    assert github.branches[REPO]["prod"] == promotion.base_head


def test_merge_without_the_approvals_branch_protection_wants_is_temporary(
    github: FakeGitHub, github_forge: GitHubForge
) -> None:
    promotion = _ready(github, github_forge)
    github.protection[(REPO, "prod")] = 2
    with pytest.raises(errors.TemporaryError, match="At least 2 approving review"):
        _merge(github_forge, promotion)


def test_merge_into_another_base_than_the_pull_requests_is_permanent(
    github: FakeGitHub, github_forge: GitHubForge
) -> None:
    promotion = _ready(github, github_forge)
    with pytest.raises(errors.PermanentError, match="goes into prod, not staging"):
        github_forge.merge_pull_request(
            app="web", number=promotion.pull.number, base="staging", head_sha=promotion.head_sha
        )


def test_merge_of_an_unknown_pull_request_says_so(github: FakeGitHub, github_forge: GitHubForge) -> None:
    with pytest.raises(errors.UnknownOperation, match="#41"):
        github_forge.merge_pull_request(app="web", number=41, base="prod", head_sha="a" * 40)


def test_manual_merge_mode_waits_until_a_person_merges(github: FakeGitHub) -> None:
    forge = GitHubForge(api_url=github.base_url, token=github.token, repos={"web": REPO}, merge="manual")
    promotion = _ready(github, forge)
    with pytest.raises(errors.TemporaryError, match="waiting for someone to merge pull request #1") as caught:
        _merge(forge, promotion)
    assert caught.value.hint == "https://github.com/acme/web/pull/1"
    assert github.merges == []
    github.merge_by_hand(REPO, promotion.pull.number)
    _merge(forge, promotion)  # returns now: merged by a person
    forge.close()


def test_manual_merge_mode_reports_a_pull_request_closed_unmerged(github: FakeGitHub) -> None:
    forge = GitHubForge(api_url=github.base_url, token=github.token, repos={"web": REPO}, merge="manual")
    promotion = _ready(github, forge)
    github.pulls[REPO][promotion.pull.number].state = "closed"
    with pytest.raises(errors.PermanentError, match="closed without merging"):
        _merge(forge, promotion)
    forge.close()
