"""The whole story with Flux as the engine: pin -> reconcile request -> Flux's events and Kustomization status.

promobot is built by the bootstrap from a config naming Flux, with its Kubernetes API (the contract fake,
over HTTPS with its own CA and a ServiceAccount token file), the embedded forge and a real Distribution
registry. The test plays CI and Flux: after each pin, the Kubernetes fake shows the Kustomization as Flux
would write it, and the notification-controller posts signed generic-hmac events whose metadata carries the
revision as `revision` (`main@sha1:<sha>`) or as `kustomize.toolkit.fluxcd.io/revision` (`main/<sha>`).
One result reaches promobot only through the Kubernetes API, as when an event is lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.fake_kubernetes import FakeKubernetes, Grant, certificates, serve_tls
from support.registry_server import RegistryServer, registry_binary
from support.running import until
from support.story_world import World, repositories

__all__ = ["registry_binary"]
pytestmark = pytest.mark.slow

SECRETS = {"flux-hmac": "flux-hmac-secret", "kubernetes": "eyJhbGciOiJSUzI1NiJ9.promobot-sa"}


class FluxWorld(World):
    kube: FakeKubernetes

    def latest(self, env: str) -> dict[str, Any]:
        """The newest operation in `env`."""
        return dict(self.api("GET", f"/api/operations?env={env}&limit=1")[0])

    def flux_shows(self, env: str, ready: str, reason: str, *, applied: str, attempted: str = "") -> None:
        """Flux writes the Kustomization's status (what promobot reads from the Kubernetes API)."""
        message = f"Applied revision: {applied}" if ready == "True" else f"{reason} for revision {attempted}"
        self.kube.show(f"web-{env}", ready=ready, reason=reason, message=message, applied=applied, attempted=attempted)

    def flux_event(self, env: str, reason: str, metadata: dict[str, str], severity: str = "info") -> httpx.Response:
        """The notification-controller's generic-hmac provider posts one signed event."""
        event = {
            "involvedObject": {"kind": "Kustomization", "namespace": "flux-system", "name": f"web-{env}",
                               "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "uid": f"uid-web-{env}"},
            "severity": severity, "timestamp": "2026-11-26T10:00:00Z", "reason": reason,
            "message": f"{reason} on web-{env}", "metadata": metadata,
            "reportingController": "kustomize-controller", "reportingInstance": "kustomize-controller-7f9c",
        }  # fmt: skip
        body = json.dumps(event).encode()
        signature = hmac.new(SECRETS["flux-hmac"].encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Signature": f"sha256={signature}"}
        return httpx.post(self.url + "/webhooks/flux", content=body, headers=headers, timeout=30)


@pytest.fixture
def world(registry_binary: str, tmp_path: Path) -> Iterator[FluxWorld]:
    repositories(tmp_path)
    certs = certificates(tmp_path / "pki")
    grants = {SECRETS["kubernetes"]: Grant("promobot", {"flux-system"})}
    registry = RegistryServer(registry_binary, tmp_path / "registry")
    with serve_tls(FakeKubernetes(certs, tokens=grants)) as kube:
        for env in ("qa", "prod"):
            kube.add(f"web-{env}", ready="True", reason="ReconciliationSucceeded", applied="main@sha1:" + "0" * 40)
        kubernetes = {"url": kube.url, "token_file": "tokens/kubernetes.token", "ca_file": str(certs.ca)}
        engine = {"kind": "flux", "webhook_secret": World.token("flux-hmac"), "kustomizations": "{app}-{env}",
                  "namespace": "flux-system", "kubernetes": kubernetes, "reconcile": True}  # fmt: skip
        made = FluxWorld(tmp_path, registry, secrets=SECRETS, forge={"kind": "local"}, engine=engine,
                         release_manager_login="release-manager")  # fmt: skip
        made.kube = kube
        with made:
            yield made


def test_flux_reports_reach_promobot_by_signed_events_and_by_the_kustomizations_status(world: FluxWorld) -> None:
    w = world
    # A push to qa: CI builds it, qa auto-deploys; promobot pins it and asks Flux to reconcile web-qa now.
    change = w.push("Version 2", {"VERSION": "2\n"}, "qa")
    w.built_and_pinned("qa", change, change)
    until(lambda: any(name == "web-qa" for _, name, _ in w.kube.reconciles), 10, "a reconcile request for web-qa")
    head = w.gitops_head()

    # Flux reconciles: progressing, then applied and healthy; the revision in both of Flux's forms.
    w.flux_shows("qa", "Unknown", "Progressing", applied="main@sha1:" + "0" * 40, attempted=f"main@sha1:{head}")
    assert w.flux_event("qa", "Progressing", {"revision": f"main@sha1:{head}"}).status_code == 202
    w.flux_shows("qa", "True", "ReconciliationSucceeded", applied=f"main@sha1:{head}")
    answer = w.flux_event("qa", "ReconciliationSucceeded", {"kustomize.toolkit.fluxcd.io/revision": f"main/{head}"})
    assert answer.status_code == 202 and answer.json()["accepted"] is True, answer.text
    qa = until(lambda: (r := w.row("qa"))["state"] == "healthy" and r, 20, "qa to be healthy")
    assert qa["artifact"] == f"web:qa-{change[:7]}" and w.latest("qa")["state"] == "succeeded"

    # Promote to prod through the embedded forge; no Flux event arrives for prod (lost): the status tells.
    op = w.api("POST", "/api/promote", body={"artifact": f"web:qa-{change[:7]}", "env": "prod"})
    until(lambda: w.operation(op["id"])["state"] == "awaiting_approval", 20, "the pull request to open")
    w.api("POST", f"/api/operations/{op['id']}/approve", user="release-manager")
    merged = until(lambda: w.app_git("tag", "--list", f"prod-{change[:7]}") and w.app_git("rev-parse", "prod"), 20,
                   "the pull request to be merged and tagged")  # fmt: skip
    w.built_and_pinned("prod", merged, change)
    until(lambda: any(name == "web-prod" for _, name, _ in w.kube.reconciles), 10, "a reconcile request for web-prod")
    assert w.operation(op["id"])["state"] == "running"
    w.flux_shows("prod", "True", "ReconciliationSucceeded", applied=f"main/{w.gitops_head()}")
    done = until(lambda: (o := w.operation(op["id"]))["state"] == "succeeded" and o, 20, "the promotion to finish")
    assert f"web:prod-{change[:7]} is healthy in prod" in done["message"]
    assert w.row("prod")["state"] == "healthy"

    # A broken qa change: Flux applies it, its health check fails, and it says so both ways.
    before = w.gitops_head()
    broken = w.push("Version 3", {"VERSION": "3\n"}, "qa")
    w.built_and_pinned("qa", broken, broken)
    head = w.gitops_head()
    w.flux_shows("qa", "False", "HealthCheckFailed", applied=f"main@sha1:{before}", attempted=f"main@sha1:{head}")
    answer = w.flux_event("qa", "HealthCheckFailed", {"revision": f"main@sha1:{head}"}, severity="error")
    assert answer.status_code == 202
    until(lambda: (r := w.row("qa"))["artifact"] == f"web:qa-{broken[:7]}" and r["state"] == "degraded", 20,
          "qa to be degraded")  # fmt: skip
    failed = w.latest("qa")
    assert failed["state"] == "failed" and f"web:qa-{broken[:7]} degraded in qa" in failed["message"], failed


def test_a_flux_event_with_a_bad_signature_is_refused_and_changes_nothing(world: FluxWorld) -> None:
    body = json.dumps({"involvedObject": {"kind": "Kustomization", "name": "web-qa"}, "reason": "HealthCheckFailed"})
    headers = {"Content-Type": "application/json", "X-Signature": "sha256=" + "0" * 64}
    board = world.api("GET", "/api/list")
    answer = httpx.post(world.url + "/webhooks/flux", content=body, headers=headers, timeout=30)
    assert answer.status_code == 401 and "flux-hmac-secret" not in answer.text
    assert world.api("GET", "/api/list") == board
