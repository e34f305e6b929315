"""Secrets never appear in logs, errors or chat: every integration is given a known secret, requests fail in
each of them (bad signatures and tokens at the intake, an API answering 401 or 500 behind), and everything
promobot said is searched for each secret and its base64 form."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promobot.domain import errors
from support import logwatch, tally
from support.intake_endpoints import ENDPOINTS, ZERO
from support.intake_site import IntakeSite
from support.loopback_http import Answer, JsonApp, Request, serve

SUITE = "hostile input"
SHA = "b" * 40


class Refusing(JsonApp):
    """An outside API that refuses everything with `status`, as a server with a revoked token or a fault would."""

    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status

    def handle(self, request: Request) -> Answer:
        message = "Bad credentials" if self.status == 401 else "internal error"
        return Answer(self.status, {"message": message, "error": message}, {"WWW-Authenticate": 'Basic realm="x"'})


class Said:
    """Everything promobot said: HTTP answers, errors raised, chat messages (the fake Slack's), logs."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def answer(self, response: Any) -> None:
        self.parts.append(f"{response.status_code} {dict(response.headers)} {response.text}")

    def text(self, site: IntakeSite, logs: logwatch.Seen) -> str:
        chat = json.dumps([body for _, body in site.slack.calls], default=str)
        return "\n".join([*self.parts, chat, logs.text()])


def _forms(secret: str) -> dict[str, str]:
    """A secret as it might leak: itself, base64 (as in basic auth, with the user name too), URL-safe base64."""
    raw = secret.encode()
    return {
        "plain": secret,
        "base64": base64.b64encode(raw).decode().rstrip("="),
        "basic auth": base64.b64encode(b"promobot:" + raw).decode().rstrip("="),
        "urlsafe base64": base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }


@pytest.fixture(params=[401, 500], ids=["api answers 401", "api answers 500"])
def refusing(request: pytest.FixtureRequest) -> Iterator[Refusing]:
    with serve(Refusing(request.param)) as fake:
        yield fake  # type: ignore[misc]


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_no_secret_appears_in_what_promobot_says_when_everything_fails(
    tmp_path: Path, refusing: Refusing, forge: str
) -> None:
    site = IntakeSite(tmp_path / forge, forge, api_url=refusing.base_url, registry_url=refusing.base_url)  # type: ignore[arg-type]
    said = Said()
    try:
        with logwatch.watching() as logs:
            _fail_everywhere(site, said, forge)
        text = said.text(site, logs)
    finally:
        site.close()
    assert any("authorization" in r.headers or "private-token" in r.headers for r in refusing.requests), (
        "the failing API was never called with a credential, so nothing was tested"
    )
    found = [
        f"{name} ({form})"
        for name, secret in site.secrets().items()
        for form, value in _forms(secret).items()
        if value in text
    ]
    assert "reply to Slack failed" in text, "the logs were not captured, so nothing was searched"
    tally.add(SUITE, "secrets searched for", len(site.secrets()))
    assert found == [], found


def _fail_everywhere(site: IntakeSite, said: Said, forge: str) -> None:
    # 1. Every intake endpoint of this site, wrongly signed every way its scheme has.
    for endpoint in (e for e in ENDPOINTS if e.site == forge):
        body = endpoint.encode(endpoint.sample(site))
        for how in endpoint.refusals:
            said.answer(site.http.post(endpoint.path, content=body, headers=endpoint.headers(site, body, how)))
    # 2. The intake's own token and a person's token where the other belongs.
    said.answer(site.http.get("/api/list", headers={"Authorization": f"Bearer {site.webhook_token}"}))
    said.answer(site.http.post("/webhooks/git", json={}, headers=site.auth("developer")))
    # 3. A signed forge review of a waiting promotion: promobot asks the forge API, which refuses.
    site.waiting(1)
    review = ENDPOINTS_REVIEW[forge]
    body = json.dumps(review["payload"]).encode()
    headers = next(e for e in ENDPOINTS if e.path == f"/webhooks/{forge}").headers(site, body)
    said.answer(site.http.post(f"/webhooks/{forge}", content=body, headers={**headers, **review["headers"]}))
    # 4. A registry notification for web's image: promobot reads the image from the registry, which refuses.
    registry = next(e for e in ENDPOINTS if e.name == "registry")
    body = registry.encode(registry.sample(site))
    said.answer(site.http.post(registry.path, content=body, headers=registry.headers(site, body)))
    # 5. The engine's API (Argo CD), asked directly as the worker would.
    if forge == "github":
        for ask in (site.application.ctx.engine.status, site.application.ctx.engine.sync):
            try:
                ask("qa", "web")
            except errors.PromobotError as exc:
                said.parts.append(f"{exc.message} {exc.hint}")
    # 6. Slack's API refusing the bot token while promobot answers a mention.
    site.slack.fail("chat.postEphemeral", (200, "invalid_auth"), (500, ""), (200, "invalid_auth"), (500, ""))
    mention = next(e for e in ENDPOINTS if e.name == "slack events api")
    body = mention.encode(mention.sample(site))
    said.answer(site.http.post(mention.path, content=body, headers=mention.headers(site, body)))
    site.settle()


ENDPOINTS_REVIEW: dict[str, dict[str, Any]] = {
    "github": {
        "headers": {"X-GitHub-Event": "pull_request_review"},
        "payload": {
            "action": "submitted", "repository": {"full_name": "acme/web"}, "sender": {"login": "rita"},
            "review": {"state": "approved", "user": {"login": "rita"}, "commit_id": SHA},
            "pull_request": {"number": 1, "head": {"ref": "promobot/prod/1", "sha": SHA}, "base": {"ref": "prod"},
                             "html_url": "https://forge/pull/1"},
        },
    },
    "gitlab": {
        "headers": {"X-Gitlab-Event": "Merge Request Hook"},
        "payload": {
            "object_kind": "merge_request", "user": {"username": "rita"},
            "project": {"id": 100, "path_with_namespace": "acme/web"},
            "object_attributes": {"iid": 1, "action": "approved", "source_branch": "promobot/prod/1",
                                  "target_branch": "prod", "state": "opened", "last_commit": {"id": SHA},
                                  "merge_commit_sha": ZERO, "url": "https://forge/merge_requests/1"},
        },
    },
}  # fmt: skip
