"""GitHub webhook deliveries: the `X-Hub-Signature-256` check and the events promobot acts on, as values.

`verify` recomputes the HMAC-SHA256 of the raw body with the webhook secret and compares in constant time;
only `sha256=` signatures are accepted (never the legacy SHA-1 `X-Hub-Signature`). `parse` reads
`pull_request`, `pull_request_review` (whose states are lower case, unlike the REST API's), `push` and
`workflow_run` payloads; other events and unreadable payloads give None. `read` does both for one request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any

from promobot.adapters.forge import events
from promobot.domain import errors

ZERO = "0" * 40


def verify(secret: str, body: bytes, signature_header: str | None) -> bool:
    """Whether `signature_header` is `sha256=<hex HMAC of body under secret>`."""
    if not secret or not signature_header:
        return False
    algorithm, _, given = signature_header.strip().partition("=")
    if algorithm != "sha256" or not given:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def read(secret: str, headers: Mapping[str, str], body: bytes) -> events.Delivery:
    """A verified delivery from the request's headers and raw body; NotAuthenticated when unsigned or forged."""
    lower = {key.lower(): value for key, value in headers.items()}
    if not verify(secret, body, lower.get("x-hub-signature-256")):
        raise errors.NotAuthenticated("the GitHub webhook signature is missing or wrong")
    kind = lower.get("x-github-event", "")
    return events.Delivery(id=lower.get("x-github-delivery", ""), kind=kind, event=parse(kind, body))


def parse(kind: str, body: bytes) -> events.Event | None:
    try:
        payload = json.loads(body)
        parser = PARSERS.get(kind)
        return parser(payload) if parser is not None and isinstance(payload, dict) else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _pull_request(payload: dict[str, Any]) -> events.PullRequestChanged:
    pr = payload["pull_request"]
    return events.PullRequestChanged(
        repo=_repo(payload),
        number=int(pr["number"]),
        action=str(payload.get("action", "")),
        branch=pr["head"]["ref"],
        base=pr["base"]["ref"],
        head_sha=pr["head"]["sha"],
        merged=bool(pr.get("merged")),
        merge_sha=str(pr.get("merge_commit_sha") or "") if pr.get("merged") else "",
        url=str(pr.get("html_url", "")),
        sender=_login(payload.get("sender")),
    )


def _review(payload: dict[str, Any]) -> events.Reviewed:
    review, pr = payload["review"], payload["pull_request"]
    state = "dismissed" if payload.get("action") == "dismissed" else str(review["state"]).lower()
    return events.Reviewed(
        repo=_repo(payload),
        number=int(pr["number"]),
        reviewer=_login(review.get("user")),
        state=state,
        head_sha=str(review.get("commit_id") or pr["head"]["sha"]),
        url=str(pr.get("html_url", "")),
    )


def _push(payload: dict[str, Any]) -> events.Pushed:
    ref = str(payload["ref"])
    return events.Pushed(
        repo=_repo(payload),
        ref=ref,
        branch=ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else "",
        before=str(payload.get("before", ZERO)),
        after=str(payload.get("after", ZERO)),
        deleted=bool(payload.get("deleted")) or payload.get("after") == ZERO,
        pusher=str((payload.get("pusher") or {}).get("name", "")) or _login(payload.get("sender")),
    )


def _workflow_run(payload: dict[str, Any]) -> events.BuildChanged:
    run = payload["workflow_run"]
    return events.BuildChanged(
        repo=_repo(payload),
        run_id=int(run["id"]),
        name=str(run.get("name", "")),
        branch=str(run.get("head_branch") or ""),
        head_sha=str(run["head_sha"]),
        status=str(run.get("status", "")),
        conclusion=str(run.get("conclusion") or ""),
        url=str(run.get("html_url", "")),
    )


def _repo(payload: dict[str, Any]) -> str:
    name = payload["repository"]["full_name"]
    if not isinstance(name, str):
        raise TypeError("repository.full_name is not text")
    return name


def _login(user: Any) -> str:
    return str(user.get("login", "")) if isinstance(user, dict) else ""


PARSERS: dict[str, Callable[[dict[str, Any]], events.Event]] = {
    "pull_request": _pull_request,
    "pull_request_review": _review,
    "push": _push,
    "workflow_run": _workflow_run,
}
