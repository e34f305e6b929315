"""Reading an Argo CD Application: its health and sync status as promobot's Health, and the image digest.

Pure functions over the Application JSON (`GET /api/v1/applications/{name}`) or over the fields
promobot's notification template copies from it; shared by the engine and the notifications parser.

Argo CD health -> promobot Health:
  Healthy -> healthy (progressing while a sync operation still runs); Progressing, Suspended -> progressing;
  Degraded -> degraded; Missing -> progressing while out of sync or syncing, else none; Unknown -> none.
A sync operation that ended Failed or Error -> failed, whatever the health of what still runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from promobot.domain.deployments import Health

DIGEST = re.compile(r"@(sha256:[0-9a-f]{64})$")
FAILED_PHASES = frozenset({"Failed", "Error"})
RUNNING_PHASES = frozenset({"Running", "Terminating"})


def field(data: Any, *path: str) -> Any:
    """`data[path[0]][path[1]]...`, or None where a step is missing or not a mapping."""
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def text(data: Any, *path: str) -> str:
    value = field(data, *path)
    return value if isinstance(value, str) else ""


def auto_sync(application: Mapping[str, Any]) -> bool:
    """Whether `spec.syncPolicy.automated` is set (and, on Argo CD >= 2.14, not `enabled: false`)."""
    automated = field(application, "spec", "syncPolicy", "automated")
    if not isinstance(automated, Mapping):
        return False
    return automated.get("enabled") is not False


def health(*, health: str, sync: str, phase: str) -> Health:
    """promobot's Health from Argo CD's health status, sync status and operation phase."""
    if phase in FAILED_PHASES:
        return Health.FAILED
    running = phase in RUNNING_PHASES
    if health == "Healthy":
        return Health.PROGRESSING if running else Health.HEALTHY
    if health in ("Progressing", "Suspended"):
        return Health.PROGRESSING
    if health == "Degraded":
        return Health.DEGRADED
    if health == "Missing":
        return Health.PROGRESSING if running or sync == "OutOfSync" else Health.NONE
    return Health.NONE


def digest(images: Iterable[Any], image: str | None) -> str:
    """The sha256 digest of `image` among references like `reg.example/web@sha256:...`.

    Without `image`, the one digest all digest-pinned references share; "" when there is none or several.
    """
    found: set[str] = set()
    for reference in images:
        if not isinstance(reference, str) or not (match := DIGEST.search(reference)):
            continue
        name = reference[: match.start()]
        if image is None or _same_image(name, image):
            found.add(match.group(1))
    return found.pop() if len(found) == 1 else ""


def _same_image(name: str, image: str) -> bool:
    head, _, last = name.rpartition("/")
    name = f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]  # drop a tag before the @
    return name == image or name.endswith("/" + image)


def application_health(application: Mapping[str, Any]) -> Health:
    return health(
        health=text(application, "status", "health", "status"),
        sync=text(application, "status", "sync", "status"),
        phase=text(application, "status", "operationState", "phase"),
    )


def message(application: Mapping[str, Any]) -> str:
    """Why it is not healthy, in Argo CD's words ("" when it has none)."""
    phase = text(application, "status", "operationState", "phase")
    if phase in FAILED_PHASES:
        return text(application, "status", "operationState", "message")
    return text(application, "status", "health", "message")


def external_url(application: Mapping[str, Any]) -> str:
    urls = field(application, "status", "summary", "externalURLs")
    return urls[0] if isinstance(urls, list) and urls and isinstance(urls[0], str) else ""
