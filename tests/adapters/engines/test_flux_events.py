"""Flux generic-hmac events: signatures accepted and refused, revisions in every format, reasons to Health."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from promobot.adapters.engines import flux
from promobot.domain import errors
from promobot.domain.deployments import Health

SECRET = "flux-provider-token"
SHA = "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"
DIGEST = "sha256:" + "c" * 64


def event(**overrides: Any) -> bytes:
    data: dict[str, Any] = {
        "involvedObject": {"kind": "Kustomization", "namespace": "flux-system", "name": "web-qa"},
        "severity": "info",
        "timestamp": "2024-05-01T10:00:00Z",
        "message": "Reconciliation finished in 2s, next run in 10m0s",
        "reason": "ReconciliationSucceeded",
        "metadata": {"revision": f"main@sha1:{SHA}"},
        "reportingController": "kustomize-controller",
    }
    data.update(overrides)
    return json.dumps(data).encode()


def sign(body: bytes, secret: str = SECRET, algorithm: str = "sha256") -> str:
    return f"{algorithm}=" + hmac.new(secret.encode(), body, algorithm).hexdigest()


def test_a_correctly_signed_event_is_accepted() -> None:
    body = event()
    flux.verify(body, sign(body), SECRET)
    flux.verify(body, sign(body, algorithm="sha512"), SECRET)


@pytest.mark.parametrize(
    ("signature", "refusal"),
    [
        (None, "missing X-Signature"),
        ("", "missing X-Signature"),
        ("sha256=" + "0" * 64, "does not match"),
        ("sha1=" + hmac.new(SECRET.encode(), event(), hashlib.sha1).hexdigest(), "hash function promobot accepts"),
        ("md5=abc", "hash function promobot accepts"),
        (hmac.new(SECRET.encode(), event(), hashlib.sha256).hexdigest(), "hash function promobot accepts"),
    ],
)
def test_missing_forged_and_weak_signatures_are_refused(signature: str | None, refusal: str) -> None:
    with pytest.raises(errors.NotAuthenticated, match=refusal):
        flux.verify(event(), signature, SECRET)


def test_a_signature_made_with_another_secret_or_over_another_body_is_refused() -> None:
    body = event()
    with pytest.raises(errors.NotAuthenticated, match="does not match"):
        flux.verify(body, sign(body, secret="someone-else"), SECRET)
    with pytest.raises(errors.NotAuthenticated, match="does not match"):
        flux.verify(event(reason="HealthCheckFailed"), sign(body), SECRET)


@pytest.mark.parametrize(
    ("metadata", "ref", "sha"),
    [
        ({"revision": f"main@sha1:{SHA}"}, "main", SHA),
        ({"kustomize.toolkit.fluxcd.io/revision": f"main@sha1:{SHA}"}, "main", SHA),
        ({"kustomize.toolkit.fluxcd.io/revision": f"main/{SHA}"}, "main", SHA),
        ({"revision": f"release/2024/{SHA}"}, "release/2024", SHA),
        ({"revision": f"sha1:{SHA}"}, "", SHA),
        ({"revision": "v1.2.3"}, "v1.2.3", ""),
        ({}, "", ""),
    ],
)
def test_the_revision_is_read_in_every_format_and_under_either_key(
    metadata: dict[str, str], ref: str, sha: str
) -> None:
    parsed = flux.parse(event(metadata=metadata))
    assert (parsed.revision.ref, parsed.revision.sha) == (ref, sha)


@pytest.mark.parametrize(
    ("reason", "severity", "health"),
    [
        ("ReconciliationSucceeded", "info", Health.HEALTHY),
        ("UpgradeSucceeded", "info", Health.HEALTHY),
        ("Progressing", "info", Health.PROGRESSING),
        ("DependencyNotReady", "info", Health.PROGRESSING),
        ("HealthCheckFailed", "error", Health.DEGRADED),
        ("ReconciliationFailed", "error", Health.FAILED),
        ("BuildFailed", "error", Health.FAILED),
        ("SomethingNew", "error", Health.FAILED),
        ("NewArtifact", "info", None),
    ],
)
def test_reasons_map_to_promobot_health(reason: str, severity: str, health: Health | None) -> None:
    assert flux.parse(event(reason=reason, severity=severity)).health is health


def test_the_target_comes_from_promobot_metadata_or_the_object_name() -> None:
    from_name = flux.parse(event())
    assert from_name.target({"web-qa": ("qa", "web")}.get) == ("qa", "web")
    from_metadata = flux.parse(event(metadata={"promobot.io/env": "prod", "promobot.io/app": "api"}))
    assert from_metadata.target() == ("prod", "api")
    assert flux.parse(event()).target() is None


def test_an_event_becomes_a_deployment_report_once_paired_with_a_digest() -> None:
    parsed = flux.parse(event(reason="HealthCheckFailed", severity="error", message="timeout waiting for web"))
    report = parsed.report("qa", "web", DIGEST)
    assert report is not None
    assert (report.env, report.app, report.digest, report.state) == ("qa", "web", DIGEST, Health.DEGRADED)
    assert report.message == "timeout waiting for web"
    assert flux.parse(event(reason="NewArtifact")).report("qa", "web", DIGEST) is None


def test_replays_carry_the_same_delivery_id_and_other_events_another() -> None:
    assert flux.parse(event()).delivery == flux.parse(event()).delivery
    assert flux.parse(event()).delivery != flux.parse(event(timestamp="2024-05-01T10:00:01Z")).delivery


@pytest.mark.parametrize("body", [b"not json", b"[]", json.dumps({"reason": "x"}).encode(), b"{" * 300_000])
def test_bodies_that_are_not_flux_events_are_refused(body: bytes) -> None:
    with pytest.raises(errors.InvalidReference):
        flux.parse(body)
