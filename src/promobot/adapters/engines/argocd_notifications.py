"""Argo CD Notifications -> DeploymentReported: parses the JSON body of promobot's own webhook template.

The template lives in deploy/argocd/notifications-cm.yaml; it sends (all fields optional but `application`):

    {"promobot": 1, "trigger": "on-deployed", "delivery": "<id>", "application": "web-qa",
     "namespace": "argocd", "project": "default", "env": "qa", "app": "web",
     "health": "Healthy", "healthMessage": "", "sync": "Synced", "revision": "<gitops sha>",
     "phase": "Succeeded", "operationMessage": "", "images": ["reg/web@sha256:..."], "urls": []}

`env` and `app` come from the Application's `promobot.io/env` and `promobot.io/app` labels (the
ApplicationSet sets them); without them the Application's name is matched against the name template.
Pure: no I/O. The receiver authenticates the request (bearer token) before calling `parse`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from promobot.adapters.engines import argocd_status
from promobot.domain import errors
from promobot.domain.deployments import Health
from promobot.domain.events import DeploymentReported

MAX_BODY = 256 * 1024


@dataclass(frozen=True)
class Notification:
    application: str
    trigger: str
    health: Health
    env: str = ""
    app: str = ""
    delivery: str = ""
    revision: str = ""
    message: str = ""
    url: str = ""
    images: tuple[str, ...] = field(default_factory=tuple)

    def report(self, *, image: str | None = None, pinned_digest: str = "") -> DeploymentReported | None:
        """The event for the service layer; None when it names no (env, app) or no digest.

        A failed sync reports `pinned_digest` (what git asked for) when given: what still runs is the old one.
        """
        if not (self.env and self.app):
            return None
        digest = argocd_status.digest(self.images, image)
        if self.health is Health.FAILED and pinned_digest:
            digest = pinned_digest
        if not digest:
            return None
        return DeploymentReported(self.env, self.app, digest, self.health, self.url, self.message)


def parse(body: bytes, *, locate: Callable[[str], tuple[str, str] | None] | None = None) -> Notification:
    """Read the template's JSON; `locate` maps an Application name to (env, app) when labels are absent."""
    if len(body) > MAX_BODY:
        raise errors.InvalidReference("the Argo CD notification is too large")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise errors.InvalidReference("the Argo CD notification is not JSON") from None
    if not isinstance(data, dict) or not _string(data, "application"):
        raise errors.InvalidReference("the Argo CD notification names no application; is it promobot's template?")
    name = _string(data, "application")
    env, app = _string(data, "env"), _string(data, "app")
    if not (env and app) and locate is not None:
        env, app = locate(name) or ("", "")
    state = argocd_status.health(
        health=_string(data, "health"), sync=_string(data, "sync"), phase=_string(data, "phase")
    )
    failed = state is Health.FAILED
    message = _string(data, "operationMessage" if failed else "healthMessage")
    urls = [url for url in _list(data, "urls") if isinstance(url, str)]
    return Notification(
        application=name,
        trigger=_string(data, "trigger"),
        health=state,
        env=env,
        app=app,
        delivery=_string(data, "delivery")[:200],
        revision=_string(data, "revision"),
        message=message[:2000],
        url=urls[0] if urls else "",
        images=tuple(image for image in _list(data, "images") if isinstance(image, str)),
    )


def locator(template: str, envs: Iterable[str], apps: Iterable[str]) -> Callable[[str], tuple[str, str] | None]:
    """(env, app) whose Application name, by `template` (e.g. "{app}-{env}"), is the given name."""
    names = {template.format(env=env, app=app): (env, app) for env in envs for app in apps}
    return names.get


def _string(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []
