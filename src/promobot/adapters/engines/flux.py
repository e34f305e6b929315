"""Flux notification-controller events (`generic-hmac` provider): verify the signature, parse, map to Health.

The provider POSTs one JSON Event per request with `X-Signature: <hash-function>=<hex HMAC of the body>`,
keyed with the `token` of the Provider's Secret; the hash function is sha256 today (Flux may change it,
so sha384 and sha512 are accepted too; anything weaker is refused). The revision sits in the event's
metadata as `revision` or with its API group prefix (`kustomize.toolkit.fluxcd.io/revision`), formatted
`<branch>@sha1:<sha>` (Flux >= 2.0) or `<branch>/<sha>` (older).

Which (env, app) an event is about: the metadata keys `promobot.io/env` and `promobot.io/app` (set by the
Alert's `eventMetadata`) or else the involved object's name matched by a template such as "{app}-{env}".
Flux events carry no image digest: the receiver pairs the revision with the GitOps repository's pin.
Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from promobot.domain import errors
from promobot.domain.deployments import Health
from promobot.domain.events import DeploymentReported

MAX_BODY = 256 * 1024
ALGORITHMS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")

HEALTHY = frozenset({"ReconciliationSucceeded", "InstallSucceeded", "UpgradeSucceeded", "TestSucceeded"})
PROGRESSING = frozenset({"Progressing", "ProgressingWithRetry", "DependencyNotReady"})
DEGRADED = frozenset({"HealthCheckFailed"})
FAILED = frozenset({
    "ReconciliationFailed", "BuildFailed", "ArtifactFailed", "ValidationFailed", "PruneFailed",
    "InstallFailed", "UpgradeFailed", "TestFailed", "RollbackSucceeded", "RollbackFailed", "UninstallFailed",
})  # fmt: skip


def verify(body: bytes, signature: str | None, secret: str) -> None:
    """Raise NotAuthenticated unless `signature` is a valid `X-Signature` of `body` under `secret`."""
    if not secret:
        raise errors.ConfigError("the Flux webhook secret is empty")
    if not signature:
        raise errors.NotAuthenticated("missing X-Signature header", "use a Flux Provider of type generic-hmac")
    algorithm, _, given = signature.strip().partition("=")
    digestmod = ALGORITHMS.get(algorithm.lower())
    if digestmod is None or not given:
        raise errors.NotAuthenticated(
            "X-Signature is not `<hash-function>=<hex>` with a hash function promobot accepts",
            f"accepted: {', '.join(ALGORITHMS)}",
        )
    expected = hmac.new(secret.encode(), body, digestmod).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode("ascii", "replace")):
        raise errors.NotAuthenticated("X-Signature does not match the body", "check the Provider's token")


@dataclass(frozen=True)
class Revision:
    ref: str
    sha: str

    @classmethod
    def parse(cls, value: str) -> Revision:
        """`main@sha1:<sha>`, `sha1:<sha>`, or the older `main/<sha>`; sha "" when none is recognised."""
        ref, at, digest = value.rpartition("@")
        if at:
            sha = digest.partition(":")[2]
            return cls(ref, sha if SHA.fullmatch(sha) else "")
        if value.startswith(("sha1:", "sha256:")):
            sha = value.partition(":")[2]
            return cls("", sha if SHA.fullmatch(sha) else "")
        ref, slash, sha = value.rpartition("/")
        if slash and SHA.fullmatch(sha):
            return cls(ref, sha)
        return cls(value, "") if not SHA.fullmatch(value) else cls("", value)


@dataclass(frozen=True)
class FluxEvent:
    kind: str
    name: str
    namespace: str
    severity: str
    reason: str
    message: str
    revision: Revision
    timestamp: datetime | None
    delivery: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    controller: str = ""

    @property
    def health(self) -> Health | None:
        """promobot's Health for this event; None for events that say nothing about a deployment."""
        if self.reason in HEALTHY:
            return Health.HEALTHY
        if self.reason in PROGRESSING:
            return Health.PROGRESSING
        if self.reason in DEGRADED:
            return Health.DEGRADED
        if self.reason in FAILED or self.severity == "error":
            return Health.FAILED
        return None

    def target(self, locate: Callable[[str], tuple[str, str] | None] | None = None) -> tuple[str, str] | None:
        """(env, app): from `promobot.io/env` and `promobot.io/app` metadata, else `locate(name)`."""
        env, app = self.metadata.get("promobot.io/env", ""), self.metadata.get("promobot.io/app", "")
        if env and app:
            return env, app
        return locate(self.name) if locate is not None else None

    def report(self, env: str, app: str, digest: str) -> DeploymentReported | None:
        state = self.health
        if state is None or not digest:
            return None
        return DeploymentReported(env, app, digest, state, message=self.message[:2000])


def parse(body: bytes) -> FluxEvent:
    """The Event of a (verified) notification-controller request."""
    if len(body) > MAX_BODY:
        raise errors.InvalidReference("the Flux event is too large")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise errors.InvalidReference("the Flux event is not JSON") from None
    involved = data.get("involvedObject") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(involved, dict) or not _text(involved, "name"):
        raise errors.InvalidReference("the Flux event has no involvedObject")
    raw = data.get("metadata")
    metadata = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return FluxEvent(
        kind=_text(involved, "kind"),
        name=_text(involved, "name"),
        namespace=_text(involved, "namespace"),
        severity=_text(data, "severity").lower(),
        reason=_text(data, "reason"),
        message=_text(data, "message"),
        revision=Revision.parse(revision_of(metadata)),
        timestamp=_time(_text(data, "timestamp")),
        delivery=hashlib.sha256(body).hexdigest(),
        metadata=metadata,
        controller=_text(data, "reportingController"),
    )


def revision_of(metadata: Mapping[str, str]) -> str:
    """`revision`, else `<group>/revision` (e.g. kustomize.toolkit.fluxcd.io/revision); "" when absent."""
    if metadata.get("revision"):
        return metadata["revision"]
    for key, value in sorted(metadata.items()):
        if key.endswith("/revision") and value:
            return value
    return ""


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def _time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
