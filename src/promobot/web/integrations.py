"""`POST /webhooks/github|gitlab|argocd|flux`: the configured integrations' own webhooks, read by their readers.

Each sender authenticates its own way (GitHub's HMAC signature, GitLab's token, Argo CD's bearer token,
Flux's HMAC signature); the reader the bootstrap wired checks it before anything is parsed or done, so a
forged request is a 401 with nothing recorded. A delivery is taken once by its id; when handling it fails,
the id is forgotten so the sender's retry is handled. An integration that is not configured answers 404.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from promobot import ports
from promobot.bootstrap import Application
from promobot.domain import errors
from promobot.service import delivering
from promobot.web.auth import App

router = APIRouter(prefix="/webhooks")

MAX_BODY = 5_000_000  # GitHub caps payloads at 25 MB but promobot's events are far smaller
Source = Literal["github", "gitlab", "argocd", "flux"]
CONFIG_KEYS = {"github": "forge", "gitlab": "forge", "argocd": "engine", "flux": "engine"}


class NotConfigured(errors.PromobotError):
    code = "not_configured"
    http_status = 404


class TooLarge(errors.PromobotError):
    code = "too_large"
    http_status = 413


class Taken(BaseModel):
    accepted: bool
    duplicate: bool = False
    events: int = 0


@router.post(
    "/{source}",
    status_code=202,
    responses={
        401: {"description": "the signature or token is missing or wrong"},
        404: {"description": "this integration is not configured"},
        413: {"description": "the body is too large"},
    },
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def integration_webhook(source: Source, request: Request, app: App) -> Taken:
    """A delivery from GitHub, GitLab, Argo CD Notifications or Flux's notification-controller."""
    reader = app.readers.get(source)
    if reader is None:
        kind = "the forge" if CONFIG_KEYS[source] == "forge" else "the engine"
        raise NotConfigured(
            f"promobot has no {source} integration configured",
            f"set `{CONFIG_KEYS[source]}.kind: {source}` in the config"
            + (" with a `webhook_secret`" if kind == "the forge" else ""),
        )
    declared = request.headers.get("Content-Length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise TooLarge(f"a webhook body may be at most {MAX_BODY} bytes")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise TooLarge(f"a webhook body may be at most {MAX_BODY} bytes")
    return await run_in_threadpool(take, app, source, reader, dict(request.headers), body)


def take(app: Application, source: str, reader: ports.WebhookReader, headers: dict[str, str], body: bytes) -> Taken:
    inbound = reader.read(headers, body)  # NotAuthenticated / InvalidReference before anything is done
    if not inbound.events:
        return Taken(accepted=False)
    if not delivering.deliver(app.ctx, source, inbound.delivery[:200], inbound.events):
        return Taken(accepted=True, duplicate=True)
    return Taken(accepted=True, events=len(inbound.events))
