"""GitLab webhook deliveries: the `X-Gitlab-Token` check and the events promobot acts on, as values.

GitLab sends the webhook's secret token itself in `X-Gitlab-Token`; `verify` compares it in constant time.
`parse` reads Merge Request Hook (an `approved`/`approval` action becomes a Reviewed approval, an
`unapproved`/`unapproval` a dismissal), Push Hook and Pipeline Hook bodies; others give None. The delivery
id is `X-Gitlab-Event-UUID` (the same on a retry of one delivery), else `Idempotency-Key`.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any

from promobot.adapters.forge import events
from promobot.domain import errors

ZERO = "0" * 40
APPROVING = {"approved": "approved", "approval": "approved", "unapproved": "dismissed", "unapproval": "dismissed"}
PIPELINE_STATUS = {
    "created": ("queued", ""),
    "waiting_for_resource": ("queued", ""),
    "preparing": ("queued", ""),
    "pending": ("queued", ""),
    "scheduled": ("queued", ""),
    "running": ("in_progress", ""),
    "success": ("completed", "success"),
    "failed": ("completed", "failure"),
    "canceled": ("completed", "cancelled"),
    "skipped": ("completed", "skipped"),
    "manual": ("completed", "action_required"),
}


def verify(secret: str, token_header: str | None) -> bool:
    if not secret or not token_header:
        return False
    return hmac.compare_digest(secret.encode(), token_header.encode())


def read(secret: str, headers: Mapping[str, str], body: bytes) -> events.Delivery:
    """A verified delivery from the request's headers and raw body; NotAuthenticated when the token is wrong."""
    lower = {key.lower(): value for key, value in headers.items()}
    if not verify(secret, lower.get("x-gitlab-token")):
        raise errors.NotAuthenticated("the GitLab webhook token is missing or wrong")
    kind = lower.get("x-gitlab-event", "")
    delivery = lower.get("x-gitlab-event-uuid") or lower.get("idempotency-key", "")
    return events.Delivery(id=delivery, kind=kind, event=parse(kind, body))


def parse(kind: str, body: bytes) -> events.Event | None:
    try:
        payload = json.loads(body)
        parser = PARSERS.get(kind)
        return parser(payload) if parser is not None and isinstance(payload, dict) else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _merge_request(payload: dict[str, Any]) -> events.Event:
    mr = payload["object_attributes"]
    repo = str(payload["project"]["path_with_namespace"])
    head = str((mr.get("last_commit") or {}).get("id", ""))
    action = str(mr.get("action", ""))
    user = str((payload.get("user") or {}).get("username", ""))
    if action in APPROVING:
        return events.Reviewed(
            repo=repo,
            number=int(mr["iid"]),
            reviewer=user,
            state=APPROVING[action],
            head_sha=head,
            url=str(mr.get("url", "")),
        )
    return events.PullRequestChanged(
        repo=repo,
        number=int(mr["iid"]),
        action=action,
        branch=str(mr["source_branch"]),
        base=str(mr["target_branch"]),
        head_sha=head,
        merged=mr.get("state") == "merged",
        merge_sha=str(mr.get("merge_commit_sha") or ""),
        url=str(mr.get("url", "")),
        sender=user,
    )


def _push(payload: dict[str, Any]) -> events.Pushed:
    ref = str(payload["ref"])
    after = str(payload.get("after", ZERO))
    return events.Pushed(
        repo=str(payload["project"]["path_with_namespace"]),
        ref=ref,
        branch=ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else "",
        before=str(payload.get("before", ZERO)),
        after=after,
        deleted=after == ZERO,
        pusher=str(payload.get("user_username", "")),
    )


def _pipeline(payload: dict[str, Any]) -> events.BuildChanged:
    run = payload["object_attributes"]
    status, conclusion = PIPELINE_STATUS.get(str(run.get("status", "")), (str(run.get("status", "")), ""))
    return events.BuildChanged(
        repo=str(payload["project"]["path_with_namespace"]),
        run_id=int(run["id"]),
        name=str(run.get("name") or ""),
        branch="" if run.get("tag") else str(run.get("ref", "")),
        head_sha=str(run["sha"]),
        status=status,
        conclusion=conclusion,
        url=str(run.get("url") or ""),
    )


PARSERS: dict[str, Callable[[dict[str, Any]], events.Event]] = {
    "Merge Request Hook": _merge_request,
    "Push Hook": _push,
    "Pipeline Hook": _pipeline,
}
