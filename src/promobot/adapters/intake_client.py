"""Posting events to promobot's own webhook intake, as a real CI or GitOps controller would.

The embedded builder and local runtime report through this, so their results take the same path as a
real controller's notification.
"""

from __future__ import annotations

import httpx

from promobot.domain import errors
from promobot.domain.events import ArtifactBuilt, DeploymentReported


class IntakeClient:
    def __init__(self, base_url: str, token: str, timeout: float = 10.0) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = timeout

    def artifact_built(self, event: ArtifactBuilt) -> None:
        self._post(
            "/webhooks/artifacts",
            {
                "app": event.app,
                "tag": event.tag,
                "digest": event.digest,
                "revision": event.revision,
                "source_revision": event.source_revision,
            },
        )

    def deployment_reported(self, event: DeploymentReported) -> None:
        self._post(
            "/webhooks/engine",
            {
                "env": event.env,
                "app": event.app,
                "digest": event.digest,
                "state": event.state.value,
                "url": event.url,
                "message": event.message,
            },
        )

    def _post(self, path: str, body: dict[str, str]) -> None:
        try:
            response = httpx.post(self._base + path, json=body, headers=self._headers, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise errors.TemporaryError(f"promobot's intake at {self._base} is unreachable: {exc}") from None
        if response.status_code >= 500:
            raise errors.TemporaryError(f"promobot's intake answered {response.status_code}")
        if response.status_code >= 400:
            raise errors.PermanentError(f"promobot's intake refused the event: {response.text[:200]}")
