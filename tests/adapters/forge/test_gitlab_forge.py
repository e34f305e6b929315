"""The GitLab forge opens merge requests, reads their approvals, and merges only at the head promobot expects."""

from __future__ import annotations

import pytest
from forge_samples import BRANCH, PROJECT
from gitlab_story import merge, opened

from promobot.adapters.forge.gitlab import GitLabForge
from promobot.domain import errors
from support.fake_gitlab import FakeGitLab


def test_open_merge_request_opens_one_and_again_finds_it_after_the_409(
    gitlab: FakeGitLab, gitlab_forge: GitLabForge
) -> None:
    promotion = opened(gitlab, gitlab_forge)
    assert promotion.pull.number == 1
    assert promotion.pull.url == "https://gitlab.example.com/acme/platform/web/-/merge_requests/1"
    assert promotion.pull.head_sha == promotion.head_sha
    again = gitlab_forge.open_pull_request(
        app="web", branch=BRANCH, base="prod", head_sha=promotion.head_sha, title="Promote", body=""
    )
    assert again == promotion.pull
    assert len(gitlab.mrs[PROJECT]) == 1


def test_a_project_can_be_named_by_its_numeric_id(gitlab: FakeGitLab) -> None:
    forge = GitLabForge(api_url=gitlab.base_url + "/api/v4", token=gitlab.token, projects={"web": gitlab.ids[PROJECT]})
    promotion = opened(gitlab, forge)
    assert forge.review_state("web", promotion.pull.number).head_sha == promotion.head_sha
    forge.close()


def test_review_state_lists_who_approved_and_how_many_are_required(
    gitlab: FakeGitLab, gitlab_forge: GitLabForge
) -> None:
    promotion = opened(gitlab, gitlab_forge)
    gitlab.approvals_required[PROJECT] = 2
    gitlab.approve(PROJECT, 1, "ana")
    state = gitlab_forge.review_state("web", promotion.pull.number)
    assert (state.approvals, state.required, state.approved) == (["ana"], 2, False)
    gitlab.approve(PROJECT, 1, "bo")
    gitlab.unapprove(PROJECT, 1, "ana")
    gitlab.approve(PROJECT, 1, "cy")
    state = gitlab_forge.review_state("web", promotion.pull.number)
    assert (state.approvals, state.approved) == (["bo", "cy"], True)


def test_approvals_from_people_outside_the_approval_rules_do_not_satisfy_it(
    gitlab: FakeGitLab, gitlab_forge: GitLabForge
) -> None:
    promotion = opened(gitlab, gitlab_forge)
    gitlab.approvals_required[PROJECT] = 1
    gitlab.eligible[PROJECT] = {"release-manager"}
    gitlab.approve(PROJECT, 1, "intern")
    state = gitlab_forge.review_state("web", promotion.pull.number)
    assert state.approvals == ["intern"]
    assert not state.approved
    gitlab.approve(PROJECT, 1, "release-manager")
    assert gitlab_forge.review_state("web", promotion.pull.number).approved


def test_without_approval_rules_one_approval_is_required(gitlab: FakeGitLab, gitlab_forge: GitLabForge) -> None:
    promotion = opened(gitlab, gitlab_forge)
    assert gitlab_forge.review_state("web", promotion.pull.number).required == 1


def test_merge_while_gitlab_is_checking_is_retried_then_merges_at_the_expected_sha(
    gitlab: FakeGitLab, gitlab_forge: GitLabForge
) -> None:
    promotion = opened(gitlab, gitlab_forge)
    gitlab.approve(PROJECT, 1, "ana")
    with pytest.raises(errors.TemporaryError, match="still checking"):
        merge(gitlab_forge, promotion)
    merge(gitlab_forge, promotion)
    assert gitlab.merges[-1]["sha"] == promotion.head_sha
    assert "Promobot-Operation: 7" in gitlab.merges[-1]["merge_commit_message"]
    prod = gitlab.branches[PROJECT]["prod"]
    assert gitlab.commits[prod]["parents"] == [promotion.base_head, promotion.head_sha]
    assert gitlab_forge.review_state("web", 1).merged
    merge(gitlab_forge, promotion)  # merged already: nothing more
    assert len(gitlab.merges) == 1


def test_merge_refused_with_409_when_the_head_moved(gitlab: FakeGitLab, gitlab_forge: GitLabForge) -> None:
    promotion = opened(gitlab, gitlab_forge)
    gitlab.push(PROJECT, BRANCH, gitlab.commit("sneaky", (promotion.head_sha,)))
    gitlab.approve(PROJECT, 1, "ana")  # after the push, which reset approvals
    gitlab_forge.review_state("web", 1)  # GitLab finishes checking
    with pytest.raises(errors.TemporaryError, match="no longer the commit promobot expects") as caught:
        merge(gitlab_forge, promotion)
    assert "SHA does not match HEAD" in str(caught.value)
    assert gitlab.branches[PROJECT]["prod"] == promotion.base_head


def test_merge_refused_with_405_while_approvals_are_missing(gitlab: FakeGitLab, gitlab_forge: GitLabForge) -> None:
    promotion = opened(gitlab, gitlab_forge)
    gitlab.approvals_required[PROJECT] = 1
    gitlab_forge.review_state("web", 1)
    with pytest.raises(errors.TemporaryError, match="cannot be accepted now"):
        merge(gitlab_forge, promotion)
    assert gitlab.merges == []


def test_merge_refused_with_406_on_conflicts(gitlab: FakeGitLab, gitlab_forge: GitLabForge) -> None:
    promotion = opened(gitlab, gitlab_forge)
    gitlab.mrs[PROJECT][1].conflicts = True
    gitlab_forge.review_state("web", 1)
    state = gitlab_forge.review_state("web", 1)
    assert state.mergeable is False
    with pytest.raises(errors.TemporaryError, match="cannot be merged as it stands"):
        merge(gitlab_forge, promotion)


def test_manual_merge_mode_waits_for_a_person(gitlab: FakeGitLab) -> None:
    forge = GitLabForge(
        api_url=gitlab.base_url + "/api/v4", token=gitlab.token, projects={"web": PROJECT}, merge="manual"
    )
    promotion = opened(gitlab, forge)
    with pytest.raises(errors.TemporaryError, match="waiting for someone to merge merge request !1"):
        merge(forge, promotion)
    gitlab.merge_by_hand(PROJECT, 1)
    merge(forge, promotion)
    assert gitlab.merges == []
    forge.close()


def test_a_closed_merge_request_is_a_permanent_error(gitlab: FakeGitLab, gitlab_forge: GitLabForge) -> None:
    promotion = opened(gitlab, gitlab_forge)
    gitlab.mrs[PROJECT][1].state = "closed"
    with pytest.raises(errors.PermanentError, match="closed without merging"):
        merge(gitlab_forge, promotion)


def test_a_refused_token_is_a_permanent_error(gitlab: FakeGitLab) -> None:
    forge = GitLabForge(api_url=gitlab.base_url + "/api/v4", token="glpat-revoked", projects={"web": PROJECT})
    with pytest.raises(errors.PermanentError, match="401 Unauthorized") as caught:
        forge.review_state("web", 1)
    assert "glpat-revoked" not in str(caught.value)
    forge.close()
