"""The webhook intake: pushes, builds and deployment results, authenticated with the webhook token.

Duplicate deliveries (same `X-Promobot-Delivery` id) are acknowledged and ignored.

The engines' results are the bulk of the traffic, so the per-request work is kept small: the token check
and the application lookup are coroutines (`web.auth`), and the two possible answers are encoded once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, Field

from promobot.domain.deployments import Health
from promobot.domain.events import ArtifactBuilt, BranchPushed, DeploymentReported, Event
from promobot.service import delivering
from promobot.web import auth
from promobot.web.auth import App

router = APIRouter(prefix="/webhooks", dependencies=[Depends(auth.webhook_caller)])

Sha = Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")]
Digest = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
Name = Annotated[str, Field(min_length=1, max_length=64)]
Delivery = Annotated[str | None, Header(alias="X-Promobot-Delivery", max_length=200)]


class Accepted(BaseModel):
    accepted: bool
    duplicate: bool = False


class Push(BaseModel):
    app: Name
    ref: Annotated[str, Field(pattern=r"^refs/[A-Za-z0-9_./-]{1,200}$")]
    before: Sha
    after: Sha
    pusher: Annotated[str, Field(max_length=100)] = ""


class Built(BaseModel):
    app: Name
    tag: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    digest: Digest
    revision: Sha
    source_revision: Sha


class Reported(BaseModel):
    env: Name
    app: Name
    digest: Digest
    state: Health
    url: Annotated[str, Field(max_length=500)] = ""
    message: Annotated[str, Field(max_length=2000)] = ""


TAKEN, DUPLICATE, NOT_TAKEN = (
    answer.model_dump_json().encode()
    for answer in (Accepted(accepted=True), Accepted(accepted=True, duplicate=True), Accepted(accepted=False))
)


def _answer(body: bytes) -> Response:
    return Response(body, status_code=202, media_type="application/json")


def _take(app: App, source: str, delivery: str | None, event: Event) -> Response:
    taken = delivering.deliver(app.ctx, source, delivery or "", [event])
    return _answer(TAKEN if taken else DUPLICATE)


@router.post("/git", status_code=202, response_model=Accepted)
def git_push(body: Push, app: App, delivery: Delivery = None) -> Response:
    """A push to an application repository (the sandbox's post-receive hook sends these)."""
    if not body.ref.startswith("refs/heads/"):
        return _answer(NOT_TAKEN)
    branch = body.ref.removeprefix("refs/heads/")
    return _take(app, "git", delivery, BranchPushed(body.app, branch, body.before, body.after, body.pusher))


@router.post("/artifacts", status_code=202, response_model=Accepted)
def artifact_built(body: Built, app: App, delivery: Delivery = None) -> Response:
    """CI (or the embedded builder) pushed an image."""
    event = ArtifactBuilt(body.app, body.tag, body.digest, body.revision, body.source_revision)
    return _take(app, "artifacts", delivery, event)


@router.post("/engine", status_code=202, response_model=Accepted)
def deployment_reported(body: Reported, app: App, delivery: Delivery = None) -> Response:
    """The GitOps engine's deployment result (the embedded local runtime sends these)."""
    event = DeploymentReported(body.env, body.app, body.digest, body.state, body.url, body.message)
    return _take(app, "engine", delivery, event)
