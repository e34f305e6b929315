"""The REST API: the same commands as chat and the CLI, for people with an API token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response

from promobot.bootstrap import Application
from promobot.domain.operations import State
from promobot.service import auditing, freezing, queries, requests
from promobot.web import board_cache, stream
from promobot.web.auth import App, Caller
from promobot.web.paging import NEXT_LINK, link_next
from promobot.web.schemas import (
    AuditOut,
    DeploymentOut,
    DiffOut,
    EventOut,
    LockOut,
    LockRequest,
    OperationOut,
    OperationStatus,
    PromoteRequest,
    RollbackRequest,
    RowOut,
)

router = APIRouter(prefix="/api")
router.include_router(stream.router)
MAX_OFFSET = 100_000
EnvName = Annotated[str, Path(max_length=64, description="the environment's name")]
OperationId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the operation's number")]


@router.post("/promote", status_code=202)
def promote(body: PromoteRequest, user: Caller, app: App) -> OperationOut:
    """Promote an artifact to an environment (the next one when `env` is omitted)."""
    return OperationOut.of(requests.promote(app.ctx, user, body.artifact, body.env))


@router.post("/rollback", status_code=202)
def rollback(body: RollbackRequest, user: Caller, app: App) -> OperationOut:
    """Pin the previous healthy artifact of an environment again, without a rebuild."""
    return OperationOut.of(requests.rollback(app.ctx, user, body.target, body.env))


@router.post("/operations/{operation_id}/approve")
def approve(operation_id: OperationId, user: Caller, app: App) -> OperationOut:
    return OperationOut.of(requests.approve(app.ctx, user, operation_id))


@router.post("/operations/{operation_id}/cancel")
def cancel(operation_id: OperationId, user: Caller, app: App) -> OperationOut:
    return OperationOut.of(requests.cancel(app.ctx, user, operation_id))


@router.get("/operations/{operation_id}")
def status(operation_id: OperationId, user: Caller, app: App) -> OperationStatus:
    operation, events = queries.status(app.ctx, operation_id)
    return OperationStatus(**OperationOut.of(operation).model_dump(), events=[EventOut.of(e) for e in events])


@router.get("/operations", responses={200: NEXT_LINK})
def operations(
    request: Request,
    response: Response,
    user: Caller,
    app: App,
    limit: int = Query(20, ge=1, le=200),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    state: Annotated[State | None, Query()] = None,
    app_name: str | None = Query(None, alias="app", max_length=64),
    env: str | None = Query(None, max_length=64),
) -> list[OperationOut]:
    """Operations newest first, optionally of one state, app or environment; the `Link` header has the next page."""
    page = queries.operations(app.ctx, app=app_name, env=env, state=state, limit=limit, offset=offset)
    link_next(request, response, more=page.more, offset=offset + limit)
    return [OperationOut.of(op) for op in page.items]


@router.get("/list", response_model=list[RowOut], responses={304: {"description": "unchanged since that ETag"}})
def board(
    request: Request,
    user: Caller,
    app: App,
    app_name: str | None = Query(None, alias="app", max_length=64),
    env: str | None = Query(None, max_length=64),
    if_none_match: Annotated[str | None, Header(max_length=1000)] = None,
) -> Response:
    """Every app in every environment (or one app's, one environment's): artifact, source revision, state,
    when, who, where. The `ETag` moves with any change; send it back in `If-None-Match` to get a 304 while
    nothing changed."""
    cache = _board_cache(request, app)
    etag, body = cache.answer(app=app_name, env=env)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if board_cache.matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _board_cache(request: Request, app: Application) -> board_cache.BoardCache:
    state = request.app.state
    cache: board_cache.BoardCache | None = getattr(state, "board_cache", None)
    if cache is None:
        cache = state.board_cache = board_cache.BoardCache(app.ctx, app.board)
    return cache


@router.get("/history/{app_name}/{env}", responses={200: NEXT_LINK})
def history(
    request: Request,
    response: Response,
    app_name: str,
    env: str,
    user: Caller,
    app: App,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> list[DeploymentOut]:
    """Deployments of the app in the environment, newest first; the `Link` header has the next page."""
    page = queries.history_page(app.ctx, app_name, env, limit=limit, offset=offset)
    link_next(request, response, more=page.more, offset=offset + limit)
    return [DeploymentOut.of(d) for d in page.items]


@router.get("/diff/{src}/{dst}")
def diff(src: str, dst: str, user: Caller, app: App, app_name: str | None = Query(None, alias="app")) -> list[DiffOut]:
    """Commits and files between two environments, and the command that brings `dst` up to `src`."""
    return [DiffOut.of(d) for d in queries.diff(app.ctx, src, dst, app_name)]


@router.get("/locks")
def locks(user: Caller, app: App) -> list[LockOut]:
    """Locked environments (release freezes), in pipeline order."""
    return [LockOut.of(lock) for lock in freezing.current(app.ctx)]


@router.post("/locks/{env}", status_code=201)
def lock(env: EnvName, user: Caller, app: App, body: LockRequest | None = None) -> LockOut:
    """Lock an environment: promotions into it wait or are refused (per its `when_locked`) until unlocked."""
    return LockOut.of(freezing.lock(app.ctx, user, env, body.reason if body else ""))


@router.delete("/locks/{env}")
def unlock(env: EnvName, user: Caller, app: App) -> LockOut:
    """Unlock an environment; returns the lock it had."""
    return LockOut.of(freezing.unlock(app.ctx, user, env))


@router.get("/audit", responses={200: NEXT_LINK})
def audit(
    request: Request,
    response: Response,
    user: Caller,
    app: App,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    actor: str | None = Query(None, max_length=255),
) -> list[AuditOut]:
    """The audit log newest first, optionally of one actor; the `Link` header has the next page."""
    found, more = auditing.entries(app.ctx, actor=actor, limit=limit, offset=offset)
    link_next(request, response, more=more, offset=offset + limit)
    return [AuditOut.of(entry) for entry in found]
