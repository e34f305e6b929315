"""GitHub webhook deliveries are accepted only with a true X-Hub-Signature-256 and read into promobot's events."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from forge_samples import REPO
from github_story import opened

from promobot.adapters.forge import events, github_webhooks
from promobot.adapters.forge.github import GitHubForge
from promobot.domain import errors
from support.fake_github import FakeGitHub, pull_request_payload, review_payload, webhook

SECRET = "whsec-github-for-tests"
SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


def _push(**extra: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "ref": "refs/heads/develop",
        "before": "0" * 39 + "1",
        "after": SHA,
        "created": False,
        "deleted": False,
        "forced": False,
        "pusher": {"name": "ana", "email": "ana@example.com"},
        "head_commit": {"id": SHA, "message": "Fix the thing"},
        "repository": {"full_name": REPO, "name": "web"},
        "sender": {"login": "ana"},
    }
    return {**payload, **extra}


def test_a_delivery_signed_with_the_secret_is_read() -> None:
    headers, body = webhook(SECRET, "push", _push())
    delivery = github_webhooks.read(SECRET, headers, body)
    assert delivery.id == headers["X-GitHub-Delivery"]
    assert delivery.kind == "push"
    assert delivery.event == events.Pushed(REPO, "refs/heads/develop", "develop", "0" * 39 + "1", SHA, False, "ana")


def test_header_names_are_matched_whatever_their_case() -> None:
    headers, body = webhook(SECRET, "push", _push())
    lower = {name.lower(): value for name, value in headers.items()}
    assert github_webhooks.read(SECRET, lower, body).kind == "push"


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(
            lambda body: "sha256=" + hmac.new(b"not-the-secret", body, hashlib.sha256).hexdigest(), id="forged"
        ),
        pytest.param(lambda body: "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest(), id="sha1"),
        pytest.param(lambda body: hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(), id="no-algorithm"),
        pytest.param(lambda body: "sha256=", id="empty"),
        pytest.param(lambda body: None, id="missing"),
    ],
)
def test_a_delivery_without_a_true_sha256_signature_is_refused(signature: object) -> None:
    headers, body = webhook(SECRET, "push", _push())
    del headers["X-Hub-Signature-256"]
    made = signature(body)  # type: ignore[operator]
    if made is not None:
        headers["X-Hub-Signature-256"] = made
    with pytest.raises(errors.NotAuthenticated) as caught:
        github_webhooks.read(SECRET, headers, body)
    assert SECRET not in str(caught.value)


def test_a_body_changed_after_signing_is_refused() -> None:
    headers, body = webhook(SECRET, "push", _push())
    tampered = body.replace(b"develop", b"prod")
    assert not github_webhooks.verify(SECRET, tampered, headers["X-Hub-Signature-256"])


def test_an_empty_secret_accepts_nothing() -> None:
    headers, body = webhook("", "push", _push())
    assert not github_webhooks.verify("", body, headers["X-Hub-Signature-256"])


def test_a_pull_request_event_reads_its_branch_base_and_head(github: FakeGitHub, github_forge: GitHubForge) -> None:
    promotion = opened(github, github_forge)
    event = github_webhooks.parse("pull_request", _body(pull_request_payload(github, REPO, 1, "opened")))
    assert isinstance(event, events.PullRequestChanged)
    assert (event.repo, event.number, event.action) == (REPO, 1, "opened")
    assert (event.branch, event.base, event.head_sha) == ("promobot/prod/prod-1a2b3c4-op7", "prod", promotion.head_sha)
    assert (event.merged, event.merge_sha) == (False, "")


def test_a_closed_and_merged_pull_request_event_carries_the_merge_commit(
    github: FakeGitHub, github_forge: GitHubForge
) -> None:
    opened(github, github_forge)
    merge_sha = github.merge_by_hand(REPO, 1)
    event = github_webhooks.parse("pull_request", _body(pull_request_payload(github, REPO, 1, "closed")))
    assert isinstance(event, events.PullRequestChanged)
    assert (event.action, event.merged, event.merge_sha) == ("closed", True, merge_sha)


def test_a_review_event_keeps_githubs_lower_case_state(github: FakeGitHub, github_forge: GitHubForge) -> None:
    promotion = opened(github, github_forge)
    review = github.review(REPO, 1, "ana", "APPROVED")
    payload = review_payload(github, REPO, 1, review)
    assert payload["review"]["state"] == "approved"
    event = github_webhooks.parse("pull_request_review", _body(payload))
    assert event == events.Reviewed(
        REPO, 1, "ana", "approved", promotion.head_sha, "https://github.com/acme/web/pull/1"
    )


def test_a_dismissed_review_event_reads_as_dismissed(github: FakeGitHub, github_forge: GitHubForge) -> None:
    opened(github, github_forge)
    review = github.review(REPO, 1, "ana", "APPROVED")
    github.dismiss(REPO, 1, review["id"])
    payload = review_payload(github, REPO, 1, review, action="dismissed")
    event = github_webhooks.parse("pull_request_review", _body(payload))
    assert isinstance(event, events.Reviewed) and event.state == "dismissed"


def test_a_branch_deletion_push_is_marked_deleted() -> None:
    event = github_webhooks.parse("push", _body(_push(after="0" * 40, deleted=True)))
    assert isinstance(event, events.Pushed) and event.deleted


def test_a_tag_push_has_no_branch() -> None:
    event = github_webhooks.parse("push", _body(_push(ref="refs/tags/prod-1a2b3c4")))
    assert isinstance(event, events.Pushed) and (event.branch, event.ref) == ("", "refs/tags/prod-1a2b3c4")


def test_a_completed_workflow_run_reads_its_conclusion() -> None:
    payload = {
        "action": "completed",
        "workflow_run": {
            "id": 30433642,
            "name": "Build",
            "head_branch": "qa",
            "head_sha": SHA,
            "event": "push",
            "status": "completed",
            "conclusion": "failure",
            "html_url": "https://github.com/acme/web/actions/runs/30433642",
            "run_number": 562,
        },
        "workflow": {"id": 159038, "name": "Build", "path": ".github/workflows/build.yml"},
        "repository": {"full_name": REPO},
        "sender": {"login": "ana"},
    }
    event = github_webhooks.parse("workflow_run", _body(payload))
    assert event == events.BuildChanged(
        REPO, 30433642, "Build", "qa", SHA, "completed", "failure", "https://github.com/acme/web/actions/runs/30433642"
    )


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("ping", b'{"zen": "Design for failure.", "hook_id": 1}'),
        ("push", b"not json"),
        ("push", b"[]"),
        ("pull_request", b'{"action": "opened"}'),
    ],
)
def test_events_promobot_does_not_act_on_read_as_nothing(kind: str, body: bytes) -> None:
    assert github_webhooks.parse(kind, body) is None


def _body(payload: dict[str, object]) -> bytes:
    return json.dumps(payload).encode()
