"""`ports.Engine` over Argo CD's REST API: read an Application's health, ask for a sync when auto-sync is off.

One Argo CD Application per (environment, app), named by a template such as "{app}-{env}" (what the
ApplicationSet in deploy/argocd/ creates) or by a function. Results normally arrive pushed, through Argo
CD Notifications (`argocd_notifications`); `status` is what promobot polls when a report was lost.

Argo CD refuses its own rollback while auto-sync is on, so promobot never asks for one: a rollback is a
pin change in git like any other, followed by `sync` (which does nothing when auto-sync will pick it up).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from promobot.adapters.engines import argocd_http, argocd_status
from promobot.domain import errors
from promobot.domain.deployments import Health
from promobot.ports import LiveStatus

log = logging.getLogger(__name__)

NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
IMAGE_IN_MANIFEST = re.compile(r'"image"\s*:\s*"([^"]+@sha256:[0-9a-f]{64})"')


def naming(applications: str | Callable[[str, str], str]) -> Callable[[str, str], str]:
    """A function (env, app) -> Application name, from a template with {env} and {app} or a function."""
    if callable(applications):
        return applications
    template = applications
    if "{app}" not in template:
        raise errors.ConfigError(f"the Argo CD application name template {template!r} must contain {{app}}")
    return lambda env, app: template.format(env=env, app=app)


class ArgoCDEngine:
    """Thread-safe (no state but the shared HTTP client)."""

    def __init__(
        self,
        *,
        url: str,
        token: str,
        applications: str | Callable[[str, str], str] = "{app}-{env}",
        project: str | None = None,
        app_namespace: str | None = None,
        images: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        verify_tls: bool = True,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self._client = argocd_http.Client(
            url=url, token=token, timeout=timeout, verify_tls=verify_tls, attempts=attempts, backoff=backoff
        )
        self._name = naming(applications)
        self._project, self._namespace = project, app_namespace
        self._images = dict(images or {})

    def close(self) -> None:
        self._client.close()

    def application(self, env: str, app: str) -> dict[str, Any]:
        """The Application JSON of (env, app), as Argo CD returns it."""
        name = self._application_name(env, app)
        try:
            return self._client.get(f"/api/v1/applications/{quote(name, safe='')}", self._query())
        except (argocd_http.Forbidden, argocd_http.NotFound) as exc:
            raise self._explain(exc, name, "get") from None

    def status(self, env: str, app: str) -> LiveStatus | None:
        """What Argo CD runs for (env, app); None when the Application does not exist or runs nothing yet.

        "Does not exist" can only be told apart when `project` is configured; without it Argo CD answers
        403 for a missing Application too, and promobot reports that as an error naming both causes.
        """
        try:
            application = self.application(env, app)
        except argocd_http.NotFound:
            return None
        state = argocd_status.application_health(application)
        running = argocd_status.field(application, "status", "summary", "images")
        digest = argocd_status.digest(running if isinstance(running, list) else [], self._images.get(app))
        if state is Health.FAILED:
            digest = self._desired_digest(env, app) or digest
        if not digest and state is Health.NONE:
            return None
        return LiveStatus(digest, state, argocd_status.external_url(application))

    def sync(self, env: str, app: str) -> None:
        """Ask Argo CD to sync now, unless auto-sync is on (then it will pick the pin up by itself)."""
        application = self.application(env, app)
        name = self._application_name(env, app)
        if argocd_status.auto_sync(application):
            log.info("argocd: %s has auto-sync on; not asking for a sync", name)
            return
        body: dict[str, Any] = {"name": name, "prune": False, "dryRun": False}
        if self._namespace:
            body["appNamespace"] = self._namespace
        if self._project:
            body["project"] = self._project
        try:
            self._client.post(f"/api/v1/applications/{quote(name, safe='')}/sync", self._query(), body)
        except (argocd_http.Forbidden, argocd_http.NotFound) as exc:
            raise self._explain(exc, name, "sync") from None

    def _desired_digest(self, env: str, app: str) -> str:
        """The digest git asks for (from the rendered manifests), when a sync of it failed."""
        name = self._application_name(env, app)
        try:
            answer = self._client.get(f"/api/v1/applications/{quote(name, safe='')}/manifests", self._query())
        except errors.PromobotError as exc:
            log.warning("argocd: cannot read the desired manifests of %s: %s", name, exc.message)
            return ""
        manifests = answer.get("manifests")
        references = [
            found
            for manifest in manifests or []
            if isinstance(manifest, str)
            for found in IMAGE_IN_MANIFEST.findall(manifest)
        ]
        return argocd_status.digest(references, self._images.get(app))

    def _application_name(self, env: str, app: str) -> str:
        name = self._name(env, app)
        if not NAME.fullmatch(name):
            raise errors.ConfigError(f"{name!r} (for {app} in {env}) is not a valid Argo CD application name")
        return name

    def _query(self) -> dict[str, str]:
        query = {}
        if self._project:
            query["project"] = self._project
        if self._namespace:
            query["appNamespace"] = self._namespace
        return query

    def _explain(self, exc: errors.PermanentError, name: str, action: str) -> errors.PermanentError:
        policy = f"p, role:promobot, applications, {action}, {self._project or '<project>'}/{name}, allow"
        if isinstance(exc, argocd_http.NotFound):
            return argocd_http.NotFound(
                f"Argo CD has no application {name!r} in project {self._project!r}",
                "check the application name template and that the ApplicationSet created it",
            )
        if self._project:
            return argocd_http.Forbidden(
                f"Argo CD does not let promobot {action} application {name!r} in project {self._project!r}",
                f"grant the promobot account `{policy}` in argocd-rbac-cm, or check the project name",
            )
        return argocd_http.Forbidden(
            f"Argo CD answered 403 to {action} application {name!r}: either it does not exist or "
            "promobot's account may not see it (Argo CD does not say which without a project)",
            f"check the application name template and grant `{policy}`; set the engine's `project` "
            "so Argo CD answers 404 for a missing application",
        )
