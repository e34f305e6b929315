"""`POST /webhooks/github|gitlab|argocd|flux`: real signatures move things on; forged, missing and replayed ones do not.

Two apps built by the bootstrap on a sandbox's repositories: GitHub (the contract fake) with Argo CD, and
GitLab with Flux. No worker runs, so what a webhook does is all that happens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from promobot import bootstrap, config
from promobot.domain.deployments import Deployment, Health, Pin
from promobot.domain.operations import Kind, Operation, State, Step
from promobot.sandbox import create
from promobot.web.app import create_app
from support.fake_github import FakeGitHub, review_payload, webhook
from support.loopback_http import Request, serve

DIGEST = "sha256:" + "d" * 64
SECRETS = {"forge-token": "ghp_web_tests", "forge-hook": "forge-hook-secret", "argocd": "argo", "flux": "flux-hmac"}


class Site:
    def __init__(self, root: Path, forge: dict[str, Any], engine: dict[str, Any]) -> None:
        made = create.sandbox(root, apps=["web", "api"], envs=["development", "qa", "prod"], port=1)
        for name, value in SECRETS.items():
            (made.root / "tokens" / f"{name}.token").write_text(value)
        settings = yaml.safe_load(made.config.read_text())
        settings.update(forge=forge, engine=engine, builder={"kind": "none"})
        settings["users"][1]["forge_login"] = "rita-gh"
        made.config.write_text(yaml.safe_dump(settings, sort_keys=False))
        loaded = config.load(str(made.config))
        self.application = bootstrap.build(loaded, background=False)
        self.application.ctx.store.migrate()
        self.http = TestClient(create_app(self.application, manage_lifecycle=False), raise_server_exceptions=False)
        self.webhook_token = loaded.settings.server.webhook_token.read(loaded.base)

    def close(self) -> None:
        self.http.close()
        self.application.ctx.store.dispose()  # type: ignore[attr-defined]

    def waiting(self, number: int) -> Operation:
        with self.application.ctx.store.unit_of_work() as uow:
            found = uow.operations.add(
                Operation(
                    kind=Kind.PROMOTE, app="web", env="prod", artifact="web:qa-aaaaaaa", requested_by="developer",
                    source_revision="a" * 40, target_tag="prod-aaaaaaa", state=State.AWAITING_APPROVAL,
                    step=Step.PR_OPEN, message="waiting", pr_number=number,
                    pr_url=f"https://github.com/acme/web/pull/{number}",
                )
            )  # fmt: skip
            uow.commit()
        return found

    def deploying(self, env: str = "qa", digest: str = DIGEST) -> Deployment:
        with self.application.ctx.store.unit_of_work() as uow:
            found = uow.deployments.add(
                Deployment(app="web", env=env, tag=f"{env}-aaaaaaa", digest=digest, source_revision="a" * 40,
                           revision="b" * 40, state=Health.PROGRESSING)
            )  # fmt: skip
            uow.commit()
        return found

    def operation(self, operation_id: int | None) -> Operation:
        with self.application.ctx.store.unit_of_work() as uow:
            found = uow.operations.get(operation_id or 0)
        assert found is not None
        return found

    def deployment(self, env: str = "qa") -> Deployment:
        with self.application.ctx.store.unit_of_work() as uow:
            found = uow.deployments.current("web", env)
        assert found is not None
        return found


def _token(name: str) -> dict[str, str]:
    return {"file": f"tokens/{name}.token"}


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub(token=SECRETS["forge-token"], repos=("acme/web", "acme/api"))
    with serve(fake):
        base = fake.commit("base")
        fake.push("acme/web", "prod", base)
        fake.push("acme/web", "promobot/prod/1", fake.commit("promote", (base,)))
        fake.create_pull(_request({"head": "promobot/prod/1", "base": "prod", "title": "Promote"}), "acme/web", {})
        yield fake


def _request(body: dict[str, Any]) -> Request:
    return Request("POST", "/", {}, {}, body)


@pytest.fixture
def argo_site(tmp_path: Path, github: FakeGitHub) -> Iterator[Site]:
    forge = {"kind": "github", "api_url": github.base_url, "token": _token("forge-token"),
             "webhook_secret": _token("forge-hook"), "repositories": {"web": "acme/web", "api": "acme/api"}}
    engine = {"kind": "argocd", "url": "http://127.0.0.1:9", "token": _token("argocd"), "project": "default"}
    site = Site(tmp_path / "sandbox", forge, engine)  # fmt: skip
    yield site
    site.close()


@pytest.fixture
def flux_site(tmp_path: Path) -> Iterator[Site]:
    forge = {"kind": "gitlab", "api_url": "http://127.0.0.1:9/api/v4", "token": _token("forge-token"),
             "webhook_secret": _token("forge-hook"), "repositories": {"web": "acme/web", "api": 42}}
    site = Site(tmp_path / "sandbox", forge, {"kind": "flux", "webhook_secret": _token("flux")})  # fmt: skip
    yield site
    site.close()


def _review(github: FakeGitHub, secret: str = SECRETS["forge-hook"]) -> tuple[dict[str, str], bytes]:
    review = github.review("acme/web", 1, "rita-gh", "APPROVED")
    return webhook(secret, "pull_request_review", review_payload(github, "acme/web", 1, review))


def test_a_signed_github_review_moves_the_waiting_promotion_on(argo_site: Site, github: FakeGitHub) -> None:
    op = argo_site.waiting(1)
    headers, body = _review(github)

    answer = argo_site.http.post("/webhooks/github", content=body, headers=headers)

    assert answer.status_code == 202 and answer.json() == {"accepted": True, "duplicate": False, "events": 1}
    moved = argo_site.operation(op.id)
    assert (moved.state, moved.step) == (State.RUNNING, Step.APPROVED)
    assert "approved by release-manager" in moved.message


@pytest.mark.parametrize("signature", ["sha256=" + "0" * 64, None, "sha1=abc"])
def test_a_forged_or_missing_github_signature_is_401_and_changes_nothing(
    argo_site: Site, github: FakeGitHub, signature: str | None
) -> None:
    op = argo_site.waiting(1)
    headers, body = _review(github)
    real = headers.pop("X-Hub-Signature-256")
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature

    answer = argo_site.http.post("/webhooks/github", content=body, headers=headers)

    assert answer.status_code == 401 and answer.json()["error"]["code"] == "not_authenticated"
    assert argo_site.operation(op.id).state is State.AWAITING_APPROVAL
    again = argo_site.http.post("/webhooks/github", content=body, headers={**headers, "X-Hub-Signature-256": real})
    assert again.json()["duplicate"] is False  # the forged try did not use up the delivery id


def test_a_github_body_signed_with_another_secret_is_refused(argo_site: Site, github: FakeGitHub) -> None:
    headers, body = _review(github, secret="someone-elses-secret")

    assert argo_site.http.post("/webhooks/github", content=body, headers=headers).status_code == 401


def test_a_replayed_github_delivery_is_acknowledged_and_ignored(argo_site: Site, github: FakeGitHub) -> None:
    headers, body = _review(github)
    assert argo_site.http.post("/webhooks/github", content=body, headers=headers).json()["duplicate"] is False

    replay = argo_site.http.post("/webhooks/github", content=body, headers=headers)

    assert replay.status_code == 202 and replay.json() == {"accepted": True, "duplicate": True, "events": 0}


def test_github_events_promobot_does_not_act_on_are_acknowledged(argo_site: Site) -> None:
    headers, body = webhook(SECRETS["forge-hook"], "issues", {"action": "opened", "issue": {}})

    answer = argo_site.http.post("/webhooks/github", content=body, headers=headers)

    assert answer.status_code == 202 and answer.json()["accepted"] is False


def test_an_argo_cd_notification_with_the_webhook_token_reports_the_deployment(argo_site: Site) -> None:
    argo_site.deploying()
    body = _argo("Healthy", DIGEST)
    headers = {"Authorization": f"Bearer {argo_site.webhook_token}"}

    answer = argo_site.http.post("/webhooks/argocd", content=body, headers=headers)

    assert answer.status_code == 202 and answer.json()["events"] == 1
    found = argo_site.deployment()
    assert (found.state, found.url) == (Health.HEALTHY, "https://qa.example.com")
    assert argo_site.http.post("/webhooks/argocd", content=body, headers=headers).json()["duplicate"] is True


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic aG9vaw=="])
def test_an_argo_cd_notification_without_the_token_is_401(argo_site: Site, authorization: str | None) -> None:
    argo_site.deploying()
    headers = {"Authorization": authorization} if authorization else {}

    answer = argo_site.http.post("/webhooks/argocd", content=_argo("Healthy", DIGEST), headers=headers)

    assert answer.status_code == 401
    assert argo_site.deployment().state is Health.PROGRESSING


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"health": "Healthy"}'])
def test_an_unreadable_argo_cd_notification_is_a_400(argo_site: Site, body: bytes) -> None:
    headers = {"Authorization": f"Bearer {argo_site.webhook_token}"}

    answer = argo_site.http.post("/webhooks/argocd", content=body, headers=headers)

    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_reference"


def test_an_integration_that_is_not_configured_is_a_404_naming_the_setting(argo_site: Site) -> None:
    answer = argo_site.http.post("/webhooks/flux", content=b"{}")

    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "promobot has no flux integration configured"
    assert "engine.kind: flux" in answer.json()["error"]["hint"]
    assert argo_site.http.post("/webhooks/gitlab", content=b"{}").status_code == 404


def test_a_gitlab_hook_is_taken_with_its_token_and_refused_without(flux_site: Site) -> None:
    body = json.dumps(_merge_request()).encode()
    good = {"X-Gitlab-Token": SECRETS["forge-hook"], "X-Gitlab-Event": "Merge Request Hook",
            "X-Gitlab-Event-UUID": "uuid-1"}  # fmt: skip

    forged = {**good, "X-Gitlab-Token": "x"}
    assert flux_site.http.post("/webhooks/gitlab", content=body, headers=forged).status_code == 401
    assert flux_site.http.post("/webhooks/gitlab", content=body, headers=good).json()["events"] == 1
    assert flux_site.http.post("/webhooks/gitlab", content=body, headers=good).json()["duplicate"] is True


def test_a_signed_flux_event_for_the_pinned_revision_reports_the_deployment(flux_site: Site) -> None:
    head = _pin(flux_site, "qa", "web")
    flux_site.deploying()

    answer = _flux(flux_site, f"main@sha1:{head}")

    assert answer.status_code == 202 and answer.json()["events"] == 1
    assert flux_site.deployment().state is Health.HEALTHY


def test_a_flux_event_for_an_older_gitops_revision_is_ignored(flux_site: Site) -> None:
    older = _pin(flux_site, "qa", "web")
    _pin(flux_site, "qa", "api")  # the GitOps head moves on
    flux_site.deploying()

    answer = _flux(flux_site, f"main/{older}")

    assert answer.status_code == 202 and answer.json()["accepted"] is False
    assert flux_site.deployment().state is Health.PROGRESSING


@pytest.mark.parametrize("signature", ["sha256=" + "0" * 64, "", "md5=abc"])
def test_a_flux_event_with_a_bad_signature_is_401(flux_site: Site, signature: str) -> None:
    head = _pin(flux_site, "qa", "web")
    flux_site.deploying()

    answer = _flux(flux_site, f"main@sha1:{head}", signature=signature)

    assert answer.status_code == 401
    assert flux_site.deployment().state is Health.PROGRESSING


def _argo(health: str, digest: str) -> bytes:
    return json.dumps({
        "promobot": 1, "trigger": "on-deployed", "delivery": "web-qa/on-deployed/1", "application": "web-qa",
        "env": "qa", "app": "web", "health": health, "sync": "Synced", "phase": "Succeeded",
        "images": [f"registry.example.com/web@{digest}"], "urls": ["https://qa.example.com"],
    }).encode()  # fmt: skip


def _merge_request() -> dict[str, Any]:
    return {
        "object_kind": "merge_request", "user": {"username": "rita"},
        "project": {"id": 7, "path_with_namespace": "acme/web"},
        "object_attributes": {"iid": 3, "action": "update", "source_branch": "promobot/prod/x", "target_branch": "prod",
                              "state": "opened", "last_commit": {"id": "c" * 40}, "url": "https://gitlab/x"},
    }  # fmt: skip


def _pin(site: Site, env: str, app: str) -> str:
    written = site.application.ctx.gitops.write_pin(env, app, Pin(app, f"{env}-aaaaaaa", DIGEST), message="pin")
    assert written is not None
    return written


def _flux(site: Site, revision: str, *, signature: str | None = None) -> Any:
    body = json.dumps({
        "involvedObject": {"kind": "Kustomization", "name": "web-qa", "namespace": "flux-system"},
        "severity": "info", "timestamp": "2024-05-01T12:00:00Z", "message": "Reconciliation finished",
        "reason": "ReconciliationSucceeded", "metadata": {"revision": revision},
        "reportingController": "kustomize-controller",
    }).encode()  # fmt: skip
    if signature is None:
        signature = "sha256=" + hmac.new(SECRETS["flux"].encode(), body, hashlib.sha256).hexdigest()
    return site.http.post("/webhooks/flux", content=body, headers={"X-Signature": signature})
