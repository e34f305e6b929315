"""GitLab webhook deliveries are accepted only with the right X-Gitlab-Token and read into promobot's events."""

from __future__ import annotations

import json

import pytest
from forge_samples import PROJECT
from gitlab_story import opened

from promobot.adapters.forge import events, gitlab_webhooks
from promobot.adapters.forge.gitlab import GitLabForge
from promobot.domain import errors
from support.fake_gitlab import FakeGitLab, merge_request_payload, webhook

SECRET = "gitlab-hook-token-for-tests"
SHA = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
PROJECT_JSON = {"id": 100, "name": "web", "path_with_namespace": PROJECT}


def test_a_delivery_with_the_token_is_read(gitlab: FakeGitLab, gitlab_forge: GitLabForge) -> None:
    promotion = opened(gitlab, gitlab_forge)
    headers, body = webhook(SECRET, "Merge Request Hook", merge_request_payload(gitlab, PROJECT, 1, "open"))
    delivery = gitlab_webhooks.read(SECRET, headers, body)
    assert delivery.id == headers["X-Gitlab-Event-UUID"]
    assert delivery.kind == "Merge Request Hook"
    assert isinstance(delivery.event, events.PullRequestChanged)
    assert (delivery.event.repo, delivery.event.number, delivery.event.action) == (PROJECT, 1, "open")
    assert (delivery.event.base, delivery.event.head_sha) == ("prod", promotion.head_sha)


@pytest.mark.parametrize("token", ["wrong", "", SECRET + " ", SECRET[:-1], None])
def test_a_delivery_without_the_exact_token_is_refused(token: str | None) -> None:
    headers, body = webhook(SECRET, "Push Hook", _push())
    del headers["X-Gitlab-Token"]
    if token is not None:
        headers["X-Gitlab-Token"] = token
    with pytest.raises(errors.NotAuthenticated) as caught:
        gitlab_webhooks.read(SECRET, headers, body)
    assert SECRET not in str(caught.value)


def test_an_empty_secret_accepts_nothing() -> None:
    assert not gitlab_webhooks.verify("", "")


def test_approval_actions_read_as_reviews(gitlab: FakeGitLab, gitlab_forge: GitLabForge) -> None:
    opened(gitlab, gitlab_forge)
    for action, state in (("approved", "approved"), ("approval", "approved"), ("unapproval", "dismissed")):
        payload = merge_request_payload(gitlab, PROJECT, 1, action, user="bo")
        event = gitlab_webhooks.parse("Merge Request Hook", json.dumps(payload).encode())
        assert isinstance(event, events.Reviewed)
        assert (event.reviewer, event.state, event.number) == ("bo", state, 1)


def test_a_merged_merge_request_carries_its_merge_commit(gitlab: FakeGitLab, gitlab_forge: GitLabForge) -> None:
    opened(gitlab, gitlab_forge)
    merge_sha = gitlab.merge_by_hand(PROJECT, 1)
    payload = merge_request_payload(gitlab, PROJECT, 1, "merge")
    event = gitlab_webhooks.parse("Merge Request Hook", json.dumps(payload).encode())
    assert isinstance(event, events.PullRequestChanged)
    assert (event.merged, event.merge_sha) == (True, merge_sha)


def test_a_push_hook_reads_branch_and_pusher() -> None:
    event = gitlab_webhooks.parse("Push Hook", json.dumps(_push()).encode())
    assert event == events.Pushed(PROJECT, "refs/heads/develop", "develop", "0" * 39 + "1", SHA, False, "ana")
    deleted = gitlab_webhooks.parse("Push Hook", json.dumps(_push(after="0" * 40)).encode())
    assert isinstance(deleted, events.Pushed) and deleted.deleted


def test_a_pipeline_hook_reads_as_a_build_with_github_style_conclusion() -> None:
    payload = {
        "object_kind": "pipeline",
        "object_attributes": {
            "id": 31,
            "iid": 3,
            "name": "Build",
            "ref": "qa",
            "tag": False,
            "sha": SHA,
            "status": "failed",
            "source": "push",
            "url": "https://gitlab.example.com/acme/platform/web/-/pipelines/31",
        },
        "user": {"username": "ana"},
        "project": PROJECT_JSON,
        "builds": [],
    }
    event = gitlab_webhooks.parse("Pipeline Hook", json.dumps(payload).encode())
    assert event == events.BuildChanged(
        PROJECT,
        31,
        "Build",
        "qa",
        SHA,
        "completed",
        "failure",
        payload["object_attributes"]["url"],  # type: ignore[index]
    )
    payload["object_attributes"]["status"] = "running"  # type: ignore[index]
    running = gitlab_webhooks.parse("Pipeline Hook", json.dumps(payload).encode())
    assert isinstance(running, events.BuildChanged) and (running.status, running.conclusion) == ("in_progress", "")


@pytest.mark.parametrize(
    ("kind", "body"),
    [("Issue Hook", b'{"object_kind": "issue"}'), ("Push Hook", b"{"), ("Merge Request Hook", b'{"object_kind": 1}')],
)
def test_events_promobot_does_not_act_on_read_as_nothing(kind: str, body: bytes) -> None:
    assert gitlab_webhooks.parse(kind, body) is None


def _push(**extra: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "object_kind": "push",
        "event_name": "push",
        "before": "0" * 39 + "1",
        "after": SHA,
        "ref": "refs/heads/develop",
        "checkout_sha": SHA,
        "user_username": "ana",
        "project": PROJECT_JSON,
        "commits": [{"id": SHA, "message": "Fix the thing"}],
        "total_commits_count": 1,
    }
    return {**payload, **extra}
