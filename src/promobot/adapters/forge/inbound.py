"""GitHub and GitLab webhooks as `ports.WebhookReader`s: verified deliveries in, promobot's events out.

A pull request opened, updated, reviewed, merged or closed becomes PullRequestChanged (the service reads
its review state through the forge API, so the payload's own claims are never trusted); a push to a branch
becomes BranchPushed; CI runs and everything else are acknowledged and left out. The forge's repository
name ("owner/name", "group/project", or a GitLab project id) is mapped back to the apps configured for it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping

from promobot import ports
from promobot.adapters.forge import events, github_webhooks, gitlab_webhooks
from promobot.domain import events as domain


def _apps_by_repo(repos: Mapping[str, str | int]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for app, repo in repos.items():
        found.setdefault(str(repo).lower(), []).append(app)
    return found


def translate(event: events.Event | None, apps: list[str]) -> list[domain.Event]:
    """promobot's events for one forge event about the repository of `apps`."""
    if isinstance(event, events.PullRequestChanged | events.Reviewed):
        return [domain.PullRequestChanged(app, event.number) for app in apps]
    if isinstance(event, events.Pushed) and event.branch and not event.deleted:
        return [domain.BranchPushed(app, event.branch, event.before, event.after, event.pusher) for app in apps]
    return []


class _ForgeReader:
    def __init__(
        self,
        *,
        secret: str,
        repos: Mapping[str, str | int],
        read: Callable[[str, Mapping[str, str], bytes], events.Delivery],
    ) -> None:
        self._secret = secret
        self._apps = _apps_by_repo(repos)
        self._read = read

    def read(self, headers: Mapping[str, str], body: bytes) -> ports.Inbound:
        delivery = self._read(self._secret, headers, body)  # NotAuthenticated before anything is parsed
        delivery_id = delivery.id or hashlib.sha256(body).hexdigest()
        if delivery.event is None:
            return ports.Inbound(delivery_id, [])
        apps = self._apps.get(delivery.event.repo.lower()) or self._apps.get(_project_id(body), [])
        return ports.Inbound(delivery_id, translate(delivery.event, apps))


def _project_id(body: bytes) -> str:
    """A GitLab payload's numeric project id, for projects configured by id ("" when absent)."""
    try:
        project = json.loads(body).get("project") or {}
        return str(int(project["id"]))
    except (ValueError, TypeError, KeyError, AttributeError):
        return ""


class GitHubReader(_ForgeReader):
    """`X-Hub-Signature-256` verified; `repos` maps each app to "owner/name"."""

    def __init__(self, *, secret: str, repos: Mapping[str, str]) -> None:
        super().__init__(secret=secret, repos=repos, read=github_webhooks.read)


class GitLabReader(_ForgeReader):
    """`X-Gitlab-Token` verified; `projects` maps each app to "group/project" or a numeric project id."""

    def __init__(self, *, secret: str, projects: Mapping[str, str | int]) -> None:
        super().__init__(secret=secret, repos=projects, read=gitlab_webhooks.read)
