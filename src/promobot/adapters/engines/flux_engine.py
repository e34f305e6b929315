"""`ports.Engine` for Flux: one Kustomization per (environment, app), read live from the Kubernetes API.

The Kustomization of (env, app) is named by a template such as "{app}-{env}" in a namespace such as
"flux-system" (deploy/flux/kustomizations.yaml); `status` reads it (`flux_status`) and `sync`, when
`reconcile` is on, annotates it with `reconcile.fluxcd.io/requestedAt` by a merge patch, as
`flux reconcile kustomization` does. Without a Kubernetes client, or for an environment outside the
configured cluster, Flux is heard only through its notification-controller events (`inbound.FluxReader`):
`status` answers None and `sync` does nothing, since Flux reconciles by itself.

Flux names no image digest, only the GitOps revision it applied. `current()` (injected by the bootstrap)
gives the GitOps head and its pins: a Kustomization at the head runs what the head pins for (env, app); one
at an older revision has not applied the head's pin yet, so that pin is progressing. A suspended one
(`spec.suspend: true`) never will: unless it had finished with the head before, `status` raises a
PermanentError naming it and `flux resume`, so the operation fails at once instead of timing out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from promobot.adapters.engines import flux_status, kubernetes_api
from promobot.domain import errors
from promobot.domain.deployments import Health, Pin
from promobot.ports import LiveStatus

log = logging.getLogger(__name__)

Current = Callable[[], tuple[str | None, Mapping[tuple[str, str], Pin]]]
API = "/apis/kustomize.toolkit.fluxcd.io/v1"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


class FluxEngine:
    """Thread-safe (no state but the shared HTTP client)."""

    def __init__(
        self,
        *,
        current: Current,
        client: kubernetes_api.Client | None = None,
        kustomizations: str = "{app}-{env}",
        namespace: str = "flux-system",
        environments: Iterable[str] = (),
        reconcile: bool = False,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if "{app}" not in kustomizations:
            raise errors.ConfigError(f"the Kustomization name template {kustomizations!r} must contain {{app}}")
        self._current, self._client = current, client
        self._name, self._namespace = kustomizations, namespace
        self._environments = frozenset(environments)
        self._reconcile, self._now = reconcile, now

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def reads(self, env: str) -> bool:
        """Whether (env, ...) Kustomizations are in the cluster promobot reads."""
        return self._client is not None and (not self._environments or env in self._environments)

    def kustomization(self, env: str, app: str) -> dict[str, Any]:
        """The Kustomization of (env, app), as the Kubernetes API returns it."""
        assert self._client is not None
        namespace, name = self._names(env, app)
        try:
            return self._client.get(self._path(namespace, name))
        except (kubernetes_api.Forbidden, kubernetes_api.NotFound) as exc:
            raise self._explain(exc, namespace, name, "get") from None

    def status(self, env: str, app: str) -> LiveStatus | None:
        """What Flux runs for (env, app); None when not read, the Kustomization is missing, or nothing is pinned.

        PermanentError when the Kustomization is suspended before it finished with the GitOps head.
        """
        if not self.reads(env):
            return None
        try:
            reading = flux_status.read(self.kustomization(env, app))
        except kubernetes_api.NotFound:
            return None
        if reading.state is Health.NONE and not reading.suspended:
            return None
        head, pins = self._current()
        pin = pins.get((env, app))
        if pin is None:
            return None
        at_head = bool(reading.revision.sha) and reading.revision.sha == head
        if reading.suspended and not (at_head and reading.state.finished):
            raise self._suspended(env, app, pin)
        if not at_head:
            return LiveStatus(pin.digest, Health.PROGRESSING)  # Flux has not applied the head's pin yet
        return LiveStatus(pin.digest, reading.state)

    def sync(self, env: str, app: str) -> None:
        """With `reconcile` on, ask Flux to reconcile (env, app) now rather than at its next interval."""
        if not self._reconcile or not self.reads(env):
            return
        assert self._client is not None
        namespace, name = self._names(env, app)
        body = {"metadata": {"annotations": {REQUESTED_AT: self._now().isoformat()}}}
        try:
            self._client.merge_patch(self._path(namespace, name), body)
        except (kubernetes_api.Forbidden, kubernetes_api.NotFound) as exc:
            raise self._explain(exc, namespace, name, "patch") from None
        log.info("flux: asked for a reconcile of kustomization %s/%s", namespace, name)

    def _names(self, env: str, app: str) -> tuple[str, str]:
        namespace = self._namespace.format(env=env, app=app)
        name = self._name.format(env=env, app=app)
        if not LABEL.fullmatch(namespace) or not SUBDOMAIN.fullmatch(name):
            raise errors.ConfigError(f"{namespace}/{name} (for {app} in {env}) is not a valid Kustomization name")
        return namespace, name

    def _suspended(self, env: str, app: str, pin: Pin) -> errors.PermanentError:
        namespace, name = self._names(env, app)
        where = "" if namespace == "flux-system" else f" -n {namespace}"
        return errors.PermanentError(
            f"the Flux Kustomization {namespace}/{name} is suspended, so it will not apply {app}:{pin.tag} in {env}",
            f"run `flux resume kustomization {name}{where}`: the pin stays in git and Flux applies it once resumed",
        )

    @staticmethod
    def _path(namespace: str, name: str) -> str:
        return f"{API}/namespaces/{quote(namespace, safe='')}/kustomizations/{quote(name, safe='')}"

    @staticmethod
    def _explain(exc: errors.PermanentError, namespace: str, name: str, verb: str) -> errors.PermanentError:
        if isinstance(exc, kubernetes_api.NotFound):
            return kubernetes_api.NotFound(
                f"there is no Flux Kustomization {name!r} in namespace {namespace!r}",
                "check engine.kustomizations and engine.namespace against deploy/flux/kustomizations.yaml",
            )
        return kubernetes_api.Forbidden(
            f"the Kubernetes API does not let promobot {verb} Kustomization {namespace}/{name}",
            f"bind promobot's ServiceAccount to a Role in {namespace} allowing get, list, watch and patch on "
            "kustomizations.kustomize.toolkit.fluxcd.io (deploy/flux/rbac.yaml)",
        )
