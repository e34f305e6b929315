"""Argo CD Notifications and Flux events as `ports.WebhookReader`s: deployment results in, DeploymentReported out.

Argo CD's webhook (deploy/argocd/notifications-cm.yaml) authenticates with promobot's webhook bearer token;
Flux's generic-hmac provider signs the body (`X-Signature`). Both need what git pins now, through
`current()` -> (the GitOps head, the pins at it), injected by the bootstrap: a failed Argo CD sync is about
the pinned digest (the old one keeps running), and Flux events carry only a GitOps revision, so one for a
revision other than the head is left out (Flux reports the head again when it applies it).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping

from promobot import ports
from promobot.adapters.engines import argocd_notifications, flux
from promobot.domain import errors
from promobot.domain.deployments import Health, Pin

Current = Callable[[], tuple[str | None, Mapping[tuple[str, str], Pin]]]


def _locator(template: str, envs: Iterable[str], apps: Iterable[str]) -> Callable[[str], tuple[str, str] | None]:
    return argocd_notifications.locator(template, list(envs), list(apps))


class ArgoCDReader:
    def __init__(
        self,
        *,
        token: str,
        template: str,
        envs: Iterable[str],
        images: Mapping[str, str],
        current: Current,
    ) -> None:
        self._token = token
        self._images = dict(images)
        self._locate = _locator(template, envs, self._images)
        self._envs = set(envs)
        self._current = current

    def read(self, headers: Mapping[str, str], body: bytes) -> ports.Inbound:
        lower = {key.lower(): value for key, value in headers.items()}
        scheme, _, token = lower.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(self._token.encode(), token.strip().encode()):
            raise errors.NotAuthenticated("the Argo CD notification's bearer token is missing or wrong")
        notification = argocd_notifications.parse(body, locate=self._locate)
        delivery = notification.delivery or hashlib.sha256(body).hexdigest()
        if notification.app not in self._images or notification.env not in self._envs:
            return ports.Inbound(delivery, [])
        pinned = ""
        if notification.health is Health.FAILED:
            pin = self._current()[1].get((notification.env, notification.app))
            pinned = pin.digest if pin is not None else ""
        report = notification.report(image=self._images[notification.app], pinned_digest=pinned)
        return ports.Inbound(delivery, [report] if report is not None else [])


class FluxReader:
    def __init__(
        self,
        *,
        secret: str,
        template: str,
        envs: Iterable[str],
        apps: Iterable[str],
        current: Current,
    ) -> None:
        self._secret = secret
        self._apps, self._envs = set(apps), set(envs)
        self._locate = _locator(template, self._envs, self._apps)
        self._current = current

    def read(self, headers: Mapping[str, str], body: bytes) -> ports.Inbound:
        lower = {key.lower(): value for key, value in headers.items()}
        flux.verify(body, lower.get("x-signature"), self._secret)
        event = flux.parse(body)
        target = event.target(self._locate)
        if target is None or event.health is None or target[0] not in self._envs or target[1] not in self._apps:
            return ports.Inbound(event.delivery, [])
        head, pins = self._current()
        if not event.revision.sha or event.revision.sha != head:
            return ports.Inbound(event.delivery, [])  # an older (or unknown) GitOps revision
        pin = pins.get(target)
        report = event.report(target[0], target[1], pin.digest if pin is not None else "")
        return ports.Inbound(event.delivery, [report] if report is not None else [])

