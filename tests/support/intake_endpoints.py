"""Every intake endpoint promobot serves, with a payload shaped like the real sender's and its signature scheme.

An `Endpoint` knows which `IntakeSite` serves it, how a body is encoded on the wire (JSON, or a Slack form),
a sample payload a real sender would send (fresh ids on each call) and how its sender authenticates.
`headers(site, body, how, delivery)` signs a body the way `how` says: "signed" (right), or one of the
scheme's `refusals`: "unsigned", "wrong secret", "another body" (a valid signature of different bytes;
only where the signature covers the body), "stale" and "from the future" (Slack's timestamp six minutes
off; only Slack's scheme has one) and "person token" (a user's API token where the sender's credential
belongs).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from support.intake_site import SECRETS, Forge, IntakeSite

ZERO = "0" * 40
DIGEST = "sha256:" + "d" * 64
WRONG = "not-the-right-secret-0000"


def _hmac(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


class _Slack:
    """Slack's v0 signature: HMAC of `v0:<timestamp>:<body>`, the timestamp within five minutes."""

    hows = ("unsigned", "wrong secret", "another body", "person token", "stale", "from the future")

    def __call__(self, site: IntakeSite, body: bytes, how: str) -> dict[str, str]:
        stamp = str(int(time.time() + {"stale": -360, "from the future": 360}.get(how, 0)))
        if how == "unsigned":
            return {}
        if how == "person token":
            return {"Authorization": f"Bearer {site.tokens['developer']}", "X-Slack-Request-Timestamp": stamp}
        key = WRONG if how == "wrong secret" else SECRETS["slack-signing"]
        signed = body + b"&x=1" if how == "another body" else body
        return {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": "v0=" + _hmac(key, f"v0:{stamp}:".encode() + signed),
        }


class _Hmac:
    """An HMAC of the body in `header` (GitHub's X-Hub-Signature-256, Flux's X-Signature); no timestamp."""

    hows = ("unsigned", "wrong secret", "another body", "person token")

    def __init__(self, header: str, secret: str) -> None:
        self.header, self.secret = header, secret

    def __call__(self, site: IntakeSite, body: bytes, how: str) -> dict[str, str]:
        match how:
            case "unsigned":
                return {}
            case "person token":
                return {"Authorization": f"Bearer {site.tokens['developer']}"}
            case "wrong secret":
                return {self.header: "sha256=" + _hmac(WRONG, body)}
            case "another body":
                return {self.header: "sha256=" + _hmac(SECRETS[self.secret], body + b" ")}
        return {self.header: "sha256=" + _hmac(SECRETS[self.secret], body)}


class _Token:
    """The credential itself in `header` (GitLab's X-Gitlab-Token; bearer tokens); it covers no body.
    `secret` None: the site's webhook token."""

    hows = ("unsigned", "wrong secret", "person token")

    def __init__(self, header: str, secret: str | None, scheme: str = "") -> None:
        self.header, self.secret, self.scheme = header, secret, scheme

    def __call__(self, site: IntakeSite, body: bytes, how: str) -> dict[str, str]:
        right = SECRETS[self.secret] if self.secret else site.webhook_token
        match how:
            case "unsigned":
                return {}
            case "wrong secret":
                return {self.header: self.scheme + WRONG}
            case "person token":
                return {self.header: self.scheme + site.tokens["developer"]}
        return {self.header: self.scheme + right}


Signer = _Slack | _Hmac | _Token


def _form(payload: Any) -> bytes:
    fields = payload if isinstance(payload, dict) else {"text": payload}
    return urlencode({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}).encode()


def _interactive(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode()


@dataclass(frozen=True)
class Endpoint:
    name: str
    site: Forge
    path: str
    content_type: str
    sample: Callable[[IntakeSite], Any]
    encode: Callable[[Any], bytes]
    sign: Signer
    extra: Callable[[str], dict[str, str]] = lambda delivery: {}  # event kind and delivery id headers

    def headers(self, site: IntakeSite, body: bytes, how: str = "signed", delivery: str = "") -> dict[str, str]:
        """What the sender would send with `body`, signed as `how` says (one of `signed` or `refusals`)."""
        delivery = delivery or secrets.token_hex(8)
        return {"Content-Type": self.content_type, **self.extra(delivery), **self.sign(site, body, how)}

    @property
    def refusals(self) -> tuple[str, ...]:
        """The wrong ways to sign that this sender's scheme has."""
        return self.sign.hows


def _slash(site: IntakeSite) -> dict[str, Any]:
    return {
        "team_id": "T0TEAM", "channel_id": "C0DEPLOYS", "user_id": "U0DEV", "command": "/promobot",
        "text": "lock qa hostile input", "response_url": site.slack.response_url(1),
        "trigger_id": f"trigger-{secrets.token_hex(6)}",
    }  # fmt: skip


def _click(site: IntakeSite) -> dict[str, Any]:
    return {
        "type": "block_actions", "team": {"id": "T0TEAM"}, "user": {"id": "U0DEV"}, "channel": {"id": "C0DEPLOYS"},
        "container": {"type": "message", "message_ts": f"{time.time():.6f}", "channel_id": "C0DEPLOYS"},
        "trigger_id": f"trigger-{secrets.token_hex(6)}", "response_url": site.slack.response_url(2),
        "actions": [{"action_id": "promobot.command", "value": "lock qa clicked", "type": "button",
                     "block_id": "b", "action_ts": str(time.time())}],
    }  # fmt: skip


def _mention(site: IntakeSite) -> dict[str, Any]:
    return {
        "type": "event_callback", "team_id": "T0TEAM", "api_app_id": "A0APP",
        "event_id": f"Ev{secrets.token_hex(6).upper()}", "event_time": int(time.time()),
        "event": {"type": "app_mention", "user": "U0DEV", "channel": "C0DEPLOYS", "text": "<@U0BOT> lock qa",
                  "ts": "1.0"},
    }  # fmt: skip


def _github_push(site: IntakeSite) -> dict[str, Any]:
    return {
        "ref": "refs/heads/develop", "before": ZERO, "after": secrets.token_hex(20), "deleted": False,
        "repository": {"full_name": "acme/web", "id": 1}, "pusher": {"name": "ana"}, "sender": {"login": "ana"},
    }  # fmt: skip


def _github_pull(site: IntakeSite) -> dict[str, Any]:
    sha = secrets.token_hex(20)
    return {
        "action": "closed", "number": 7, "repository": {"full_name": "acme/web"}, "sender": {"login": "rita"},
        "pull_request": {"number": 7, "merged": True, "merge_commit_sha": sha, "html_url": "https://github/pull/7",
                         "head": {"ref": "promobot/prod/7", "sha": sha}, "base": {"ref": "prod"}},
    }  # fmt: skip


def _github_review(site: IntakeSite) -> dict[str, Any]:
    sha = secrets.token_hex(20)
    return {
        "action": "submitted", "repository": {"full_name": "acme/web"}, "sender": {"login": "rita"},
        "review": {"state": "approved", "user": {"login": "rita"}, "commit_id": sha},
        "pull_request": {"number": 7, "head": {"ref": "promobot/prod/7", "sha": sha}, "base": {"ref": "prod"},
                         "html_url": "https://github/pull/7"},
    }  # fmt: skip


def _github_run(site: IntakeSite) -> dict[str, Any]:
    return {
        "action": "completed", "repository": {"full_name": "acme/web"},
        "workflow_run": {"id": 1, "name": "build", "head_branch": "qa", "head_sha": secrets.token_hex(20),
                         "status": "completed", "conclusion": "success", "html_url": "https://github/runs/1"},
    }  # fmt: skip


def _gitlab_merge(site: IntakeSite) -> dict[str, Any]:
    return {
        "object_kind": "merge_request", "user": {"username": "rita"},
        "project": {"id": 100, "path_with_namespace": "acme/web"},
        "object_attributes": {"iid": 7, "action": "approved", "source_branch": "promobot/prod/7",
                              "target_branch": "prod", "state": "opened", "last_commit": {"id": secrets.token_hex(20)},
                              "merge_commit_sha": None, "url": "https://gitlab/merge_requests/7"},
    }  # fmt: skip


def _gitlab_pipeline(site: IntakeSite) -> dict[str, Any]:
    return {
        "object_kind": "pipeline", "project": {"id": 100, "path_with_namespace": "acme/web"},
        "object_attributes": {"id": 1, "ref": "qa", "tag": False, "sha": secrets.token_hex(20), "status": "success",
                              "url": "https://gitlab/pipelines/1"},
    }  # fmt: skip


def _gitlab_push(site: IntakeSite) -> dict[str, Any]:
    return {
        "object_kind": "push", "ref": "refs/heads/develop", "before": ZERO, "after": secrets.token_hex(20),
        "user_username": "ana", "project": {"id": 100, "path_with_namespace": "acme/web"},
    }  # fmt: skip


def _argocd(site: IntakeSite) -> dict[str, Any]:
    return {
        "promobot": 1, "trigger": "on-deployed", "delivery": secrets.token_hex(8), "application": "web-qa",
        "env": "qa", "app": "web", "health": "Healthy", "healthMessage": "", "sync": "Synced",
        "revision": secrets.token_hex(20), "phase": "Succeeded", "operationMessage": "",
        "images": [f"web@{DIGEST}"], "urls": [],
    }  # fmt: skip


def _flux(site: IntakeSite) -> dict[str, Any]:
    return {
        "involvedObject": {"kind": "Kustomization", "namespace": "flux-system", "name": "web-qa"},
        "severity": "info", "timestamp": "2026-01-01T00:00:00Z", "message": "Applied revision",
        "reason": "ReconciliationSucceeded", "reportingController": "kustomize-controller",
        "metadata": {"revision": f"main@sha1:{site.gitops_head()}", "promobot.io/env": "qa",
                     "promobot.io/app": "web"},
    }  # fmt: skip


def _registry(site: IntakeSite) -> dict[str, Any]:
    return {
        "events": [{
            "id": secrets.token_hex(8), "timestamp": "2026-01-01T00:00:00Z", "action": "push",
            "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": DIGEST,
                       "repository": "web", "tag": "dev-1a2b3c4", "size": 100},
            "request": {"id": "r", "host": "registry"}, "source": {"addr": "registry:5000"},
        }]
    }  # fmt: skip


def _git(site: IntakeSite) -> dict[str, Any]:
    return {"app": "web", "ref": "refs/heads/develop", "before": ZERO, "after": secrets.token_hex(20), "pusher": "ana"}


def _artifact(site: IntakeSite) -> dict[str, Any]:
    sha = secrets.token_hex(20)
    return {"app": "web", "tag": f"dev-{sha[:7]}", "digest": DIGEST, "revision": sha, "source_revision": sha}


def _engine(site: IntakeSite) -> dict[str, Any]:
    return {"env": "qa", "app": "web", "digest": DIGEST, "state": "healthy", "url": "", "message": "ok"}


SLACK = _Slack()
BEARER = _Token("Authorization", None, "Bearer ")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def _promobot_delivery(delivery: str) -> dict[str, str]:
    return {"X-Promobot-Delivery": delivery}


ENDPOINTS = [
    Endpoint("slack slash command", "github", "/slack/events", FORM, _slash, _form, SLACK),
    Endpoint("slack interactivity", "github", "/slack/events", FORM, _click, _interactive, SLACK),
    Endpoint("slack events api", "github", "/slack/events", JSON, _mention, _json, SLACK),
    Endpoint("slack url_verification", "github", "/slack/events", JSON,
             lambda site: {"token": "t", "challenge": secrets.token_hex(8), "type": "url_verification"}, _json, SLACK),
    Endpoint("github push", "github", "/webhooks/github", JSON, _github_push, _json,
             _Hmac("X-Hub-Signature-256", "forge-hook"),
             lambda d: {"X-GitHub-Event": "push", "X-GitHub-Delivery": d}),
    Endpoint("github pull request", "github", "/webhooks/github", JSON, _github_pull, _json,
             _Hmac("X-Hub-Signature-256", "forge-hook"),
             lambda d: {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": d}),
    Endpoint("github review", "github", "/webhooks/github", JSON, _github_review, _json,
             _Hmac("X-Hub-Signature-256", "forge-hook"),
             lambda d: {"X-GitHub-Event": "pull_request_review", "X-GitHub-Delivery": d}),
    Endpoint("github workflow run", "github", "/webhooks/github", JSON, _github_run, _json,
             _Hmac("X-Hub-Signature-256", "forge-hook"),
             lambda d: {"X-GitHub-Event": "workflow_run", "X-GitHub-Delivery": d}),
    Endpoint("argocd", "github", "/webhooks/argocd", JSON, _argocd, _json, BEARER),  # Argo CD sends promobot's token
    Endpoint("gitlab push", "gitlab", "/webhooks/gitlab", JSON, _gitlab_push, _json,
             _Token("X-Gitlab-Token", "forge-hook"),
             lambda d: {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": d}),
    Endpoint("gitlab merge request", "gitlab", "/webhooks/gitlab", JSON, _gitlab_merge, _json,
             _Token("X-Gitlab-Token", "forge-hook"),
             lambda d: {"X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Event-UUID": d}),
    Endpoint("gitlab pipeline", "gitlab", "/webhooks/gitlab", JSON, _gitlab_pipeline, _json,
             _Token("X-Gitlab-Token", "forge-hook"),
             lambda d: {"X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Event-UUID": d}),
    Endpoint("flux", "gitlab", "/webhooks/flux", JSON, _flux, _json, _Hmac("X-Signature", "flux")),
    Endpoint("registry", "github", "/webhooks/registry", "application/vnd.docker.distribution.events.v1+json",
             _registry, _json, BEARER),
    Endpoint("git", "github", "/webhooks/git", JSON, _git, _json, BEARER, _promobot_delivery),
    Endpoint("artifacts", "github", "/webhooks/artifacts", JSON, _artifact, _json, BEARER, _promobot_delivery),
    Endpoint("engine", "github", "/webhooks/engine", JSON, _engine, _json, BEARER, _promobot_delivery),
]  # fmt: skip
BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}
