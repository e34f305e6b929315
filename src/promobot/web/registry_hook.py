"""`POST /webhooks/registry`: a Distribution registry's notifications record pushed artifacts.

Authenticated with the webhook token (the registry sends it as a configured `Authorization` header).
Each pushed tag of a configured app's image, whose tag prefix names an environment, is read back through
the registry for its revision labels and handed to the intake as ArtifactBuilt, so CI needs no special
call. Every event is taken once by its `id`; anything else in the envelope is acknowledged and ignored.
"""

from __future__ import annotations

import re

import structlog
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from promobot import ports
from promobot.bootstrap import Application
from promobot.domain import errors
from promobot.domain.events import ArtifactBuilt
from promobot.service import delivering
from promobot.web import registry_events
from promobot.web.auth import App, webhook_caller

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/webhooks", dependencies=[Depends(webhook_caller)])

REVISION_LABEL = "org.opencontainers.image.revision"
SOURCE_LABEL = "io.promobot.source-revision"
MAX_BODY = 1_000_000
_SHA = re.compile(r"^[0-9a-f]{40}$")


class UnsupportedMediaType(errors.PromobotError):
    code = "unsupported_media_type"
    http_status = 415


class TooLarge(errors.PromobotError):
    code = "too_large"
    http_status = 413


class Taken(BaseModel):
    recorded: list[str]
    duplicates: int = 0
    ignored: int = 0


@router.post(
    "/registry",
    status_code=202,
    responses={413: {"description": "the body is too large"}, 415: {"description": "not a notification envelope"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media_type: {"schema": {"type": "object"}} for media_type in sorted(registry_events.MEDIA_TYPES)
            },
        }
    },
)
async def registry_notification(request: Request, app: App) -> Taken:
    """A registry's notification envelope (events.v1+json or v2)."""
    media_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media_type not in registry_events.MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"cannot read a notification of type {media_type or '(none)'!r}",
            "send application/vnd.docker.distribution.events.v1+json (or v2)",
        )
    declared = request.headers.get("Content-Length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY:
        raise TooLarge(f"a notification body may be at most {MAX_BODY} bytes")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise TooLarge(f"a notification body may be at most {MAX_BODY} bytes")
    pushes = registry_events.parse(body)
    return await run_in_threadpool(take, app, pushes)


def take(app: Application, pushes: list[registry_events.Pushed]) -> Taken:
    ctx = app.ctx
    taken = Taken(recorded=[])
    for push in pushes:
        names = [a.name for a in ctx.pipeline.apps if a.image == push.image]
        if not names or ctx.pipeline.env_by_prefix(push.tag.rsplit("-", 1)[0]) is None:
            taken.ignored += 1
            continue
        built = _read(ctx.registry, push)
        if built is None:
            taken.ignored += 1
            continue
        revision, source = built
        events = [ArtifactBuilt(name, push.tag, push.digest, revision, source) for name in names]
        if not delivering.deliver(ctx, "registry", push.event_id, events):
            taken.duplicates += 1
            continue
        taken.recorded.extend(f"{name}:{push.tag}" for name in names)
    return taken


def _read(registry: ports.Registry, push: registry_events.Pushed) -> tuple[str, str] | None:
    """(revision, source revision) from the pushed image's labels; None when they do not describe it."""
    # By digest first: the registry notifies before it links the tag, and the tag may move on meanwhile.
    found = registry.get(push.image, push.digest) or registry.get(push.image, push.tag)
    if found is None or found.digest != push.digest:
        log.info("registry push skipped: the tag has moved on", image=push.image, tag=push.tag)
        return None
    revision = found.labels.get(REVISION_LABEL, "")
    source = found.labels.get(SOURCE_LABEL) or revision
    if not _SHA.match(revision) or not _SHA.match(source):
        log.info("registry push skipped: no commit labels", image=push.image, tag=push.tag, label=REVISION_LABEL)
        return None
    return revision, source
