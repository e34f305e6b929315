"""Reading a Flux Kustomization (kustomize.toolkit.fluxcd.io/v1): its Ready condition as promobot's Health.

Pure functions over the object `GET .../kustomizations/{name}` returns. The `Ready` condition says:
  True (ReconciliationSucceeded) -> healthy, about `status.lastAppliedRevision`;
  Unknown (Progressing, ProgressingWithRetry) -> progressing, about `status.lastAttemptedRevision`;
  False -> HealthCheckFailed: degraded; DependencyNotReady: progressing (it waits); any other reason
  (ReconciliationFailed, BuildFailed, ArtifactFailed, PruneFailed, ...): failed — about the attempted revision.
A condition observed for an older `metadata.generation` than the object's, or no Ready condition while
`Reconciling` is True, is progressing; no conditions at all is none. Revisions read as in `flux.Revision`:
`<branch>@sha1:<sha>` (Flux >= 2.0) or `<branch>/<sha>`. `spec.suspend: true` (`flux suspend kustomization`)
is read as `suspended`: Flux then applies nothing new, and its conditions are the last it wrote before (the
suspension itself raised the generation, which the controller will not observe, so they are not stale).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from promobot.adapters.engines import flux
from promobot.domain.deployments import Health


@dataclass(frozen=True)
class Reading:
    state: Health
    revision: flux.Revision
    suspended: bool = False


def condition(kustomization: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    conditions = _field(kustomization, "status", "conditions")
    for entry in conditions if isinstance(conditions, list) else []:
        if isinstance(entry, Mapping) and entry.get("type") == kind:
            return entry
    return None


def read(kustomization: Mapping[str, Any]) -> Reading:
    """The Kustomization's health and the revision it is about."""
    applied = flux.Revision.parse(_text(kustomization, "status", "lastAppliedRevision"))
    attempted = flux.Revision.parse(_text(kustomization, "status", "lastAttemptedRevision"))
    attempted = attempted if attempted.sha else applied
    suspended = _field(kustomization, "spec", "suspend") is True
    ready = condition(kustomization, "Ready")
    if ready is None:
        reconciling = condition(kustomization, "Reconciling")
        state = Health.PROGRESSING if reconciling is not None and reconciling.get("status") == "True" else Health.NONE
        return Reading(state, attempted, suspended)
    if _stale(kustomization, ready) and not suspended:
        return Reading(Health.PROGRESSING, attempted, suspended)
    status = ready.get("status")
    if status == "True":
        return Reading(Health.HEALTHY, applied, suspended)
    if status == "False":
        return Reading(_failure(str(ready.get("reason") or "")), attempted, suspended)
    return Reading(Health.PROGRESSING, attempted, suspended)


def _failure(reason: str) -> Health:
    if reason in flux.DEGRADED:
        return Health.DEGRADED
    if reason in flux.PROGRESSING:
        return Health.PROGRESSING
    return Health.FAILED


def _stale(kustomization: Mapping[str, Any], ready: Mapping[str, Any]) -> bool:
    """The controller has not yet acted on the object's latest spec."""
    generation = _field(kustomization, "metadata", "generation")
    observed = ready.get("observedGeneration")
    return isinstance(generation, int) and isinstance(observed, int) and observed < generation


def _field(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data


def _text(data: Any, *path: str) -> str:
    value = _field(data, *path)
    return value.strip() if isinstance(value, str) else ""
