"""The GitHub forge opens promotion pull requests and reads their approvals as GitHub counts them."""

from __future__ import annotations

import pytest
from forge_samples import BRANCH, REPO
from github_story import branches, opened

from promobot.adapters.forge.github import GitHubForge
from promobot.domain import errors
from support.fake_github import FakeGitHub


def test_open_pull_request_opens_one_from_the_promotion_branch(github: FakeGitHub, github_forge: GitHubForge) -> None:
    _, head = branches(github)
    pull = github_forge.open_pull_request(
        app="web", branch=BRANCH, base="prod", head_sha=head, title="Promote", body="Needs 1 approval"
    )
    assert (pull.number, pull.head_sha) == (1, head)
    assert pull.url == "https://github.com/acme/web/pull/1"
    stored = github.pulls[REPO][1]
    assert (stored.branch, stored.base, stored.body) == (BRANCH, "prod", "Needs 1 approval")


def test_open_pull_request_again_finds_the_open_one_after_githubs_422(
    github: FakeGitHub, github_forge: GitHubForge
) -> None:
    first = opened(github, github_forge).pull
    again = github_forge.open_pull_request(
        app="web", branch=BRANCH, base="prod", head_sha=first.head_sha, title="Promote", body=""
    )
    assert again == first
    assert len(github.pulls[REPO]) == 1


def test_open_pull_request_of_a_missing_branch_is_a_permanent_error(
    github: FakeGitHub, github_forge: GitHubForge
) -> None:
    github.push(REPO, "prod", github.commit("prod"))
    with pytest.raises(errors.PermanentError, match="422"):
        github_forge.open_pull_request(app="web", branch="nope", base="prod", head_sha="a" * 40, title="t", body="")


def test_a_refused_token_is_a_permanent_error_naming_githubs_message(github: FakeGitHub) -> None:
    forge = GitHubForge(api_url=github.base_url, token="ghp_expired", repos={"web": REPO})
    with pytest.raises(errors.PermanentError, match="Bad credentials") as caught:
        forge.review_state("web", 1)
    assert "ghp_expired" not in str(caught.value)


def test_an_unknown_app_is_refused_before_any_call(github: FakeGitHub, github_forge: GitHubForge) -> None:
    with pytest.raises(errors.UnknownApp):
        github_forge.review_state("api", 1)
    assert github.requests == []


def test_review_state_counts_each_reviewers_latest_review(github: FakeGitHub, github_forge: GitHubForge) -> None:
    pull = opened(github, github_forge).pull
    github.review(REPO, pull.number, "ana", "APPROVED")
    github.review(REPO, pull.number, "bo", "APPROVED")
    github.review(REPO, pull.number, "bo", "CHANGES_REQUESTED")  # bo changed their mind
    github.review(REPO, pull.number, "cy", "CHANGES_REQUESTED")
    github.review(REPO, pull.number, "cy", "APPROVED")  # cy came round
    github.review(REPO, pull.number, "ana", "COMMENTED")  # a comment does not withdraw ana's approval
    state = github_forge.review_state("web", pull.number)
    assert state.approvals == ["ana", "cy"]
    assert (state.head_sha, state.merged) == (pull.head_sha, False)


def test_a_dismissed_approval_no_longer_counts(github: FakeGitHub, github_forge: GitHubForge) -> None:
    pull = opened(github, github_forge).pull
    review = github.review(REPO, pull.number, "ana", "APPROVED")
    github.review(REPO, pull.number, "bo", "APPROVED")
    github.dismiss(REPO, pull.number, review["id"])
    assert github_forge.review_state("web", pull.number).approvals == ["bo"]


def test_review_state_follows_the_link_header_through_every_page(github: FakeGitHub, github_forge: GitHubForge) -> None:
    pull = opened(github, github_forge).pull
    github.page_cap = 2
    for name in ("ana", "bo", "cy", "di", "ed"):
        github.review(REPO, pull.number, name, "APPROVED")
    github.review(REPO, pull.number, "ana", "CHANGES_REQUESTED")  # on the last page
    assert github_forge.review_state("web", pull.number).approvals == ["bo", "cy", "di", "ed"]
    pages = [r for r in github.requests if r.path.endswith("/reviews")]
    assert len(pages) == 3


def test_required_approvals_come_from_branch_protection_first(github: FakeGitHub, github_forge: GitHubForge) -> None:
    pull = opened(github, github_forge).pull
    github.protection[(REPO, "prod")] = 2
    github.rules[(REPO, "prod")] = [_pull_request_rule(3)]
    state = github_forge.review_state("web", pull.number)
    assert state.required == 2
    github.review(REPO, pull.number, "ana", "APPROVED")
    assert not github_forge.review_state("web", pull.number).approved


def test_required_approvals_come_from_rulesets_when_the_branch_is_not_protected(
    github: FakeGitHub, github_forge: GitHubForge
) -> None:
    pull = opened(github, github_forge).pull
    github.rules[(REPO, "prod")] = [{"type": "deletion"}, _pull_request_rule(1), _pull_request_rule(3)]
    assert github_forge.review_state("web", pull.number).required == 3


def test_required_approvals_come_from_rulesets_when_the_token_may_not_read_protection(
    github: FakeGitHub, github_forge: GitHubForge
) -> None:
    pull = opened(github, github_forge).pull
    github.protection[(REPO, "prod")] = 5
    github.protection_readable = False
    github.rules[(REPO, "prod")] = [_pull_request_rule(2)]
    assert github_forge.review_state("web", pull.number).required == 2


def test_protection_without_a_review_rule_falls_through_to_rulesets(
    github: FakeGitHub, github_forge: GitHubForge
) -> None:
    pull = opened(github, github_forge).pull
    github.protection[(REPO, "prod")] = None
    github.rules[(REPO, "prod")] = [_pull_request_rule(2)]
    assert github_forge.review_state("web", pull.number).required == 2


def test_required_approvals_default_to_one_without_protection_or_rulesets(
    github: FakeGitHub, github_forge: GitHubForge
) -> None:
    pull = opened(github, github_forge).pull
    state = github_forge.review_state("web", pull.number)
    assert (state.required, state.approved) == (1, False)
    github.review(REPO, pull.number, "ana", "APPROVED")
    assert github_forge.review_state("web", pull.number).approved


def _pull_request_rule(count: int) -> dict[str, object]:
    return {
        "type": "pull_request",
        "ruleset_source_type": "Repository",
        "ruleset_source": REPO,
        "ruleset_id": 42,
        "parameters": {
            "dismiss_stale_reviews_on_push": False,
            "require_code_owner_review": False,
            "require_last_push_approval": False,
            "required_approving_review_count": count,
            "required_review_thread_resolution": False,
        },
    }
