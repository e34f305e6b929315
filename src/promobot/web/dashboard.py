"""The dashboard: server-rendered pages over the same service calls as the API and chat.

Board (`/`), operation (`/operations/N`), diff (`/diff?src=&dst=`), history with rollback behind a
confirmation (`/history/APP/ENV`), sign-in and sign-out. Every POST checks the session's CSRF token; every
action runs as the signed-in user, with their roles. Commands typed in the box are handled by `commands`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from promobot.domain import errors, gates
from promobot.domain.operations import Operation
from promobot.service import queries, reporting, requests
from promobot.web import commandbox
from promobot.web.api import OperationId
from promobot.web.pages import Visit, visit

router = APIRouter(include_in_schema=False)


def _signed_in(request: Request) -> Visit | Response:
    current = visit(request)
    if current.user is None:
        return current.redirect("/signin")
    return current


@router.get("/")
def board(request: Request, notice: str = "") -> Response:
    current = _signed_in(request)
    if not isinstance(current, Visit):
        return current
    return _board(current, notice=notice[:300])


def _board(current: Visit, *, notice: str = "", error: errors.PromobotError | None = None, said: str = "") -> Response:
    ctx = current.application.ctx
    assert current.user is not None
    waiting = [op for op in queries.waiting_for(ctx) if _may_approve(current, op)]
    return current.render(
        "board.html",
        status=error.http_status if error else 200,
        grid=_grid(current),
        envs=ctx.pipeline.env_names,
        waiting=waiting,
        recent=queries.recent(ctx, 10),
        notice=notice,
        error=error,
        said=said,
    )


@router.get("/board")
def board_fragment(request: Request) -> Response:
    """The board's live part (grid, approvals, recent operations): the page's script swaps it in when the
    event stream says something moved."""
    current = _signed_in(request)
    if not isinstance(current, Visit):
        return current
    ctx = current.application.ctx
    waiting = [op for op in queries.waiting_for(ctx) if _may_approve(current, op)]
    return current.render(
        "_live.html", grid=_grid(current), envs=ctx.pipeline.env_names, waiting=waiting, recent=queries.recent(ctx, 10)
    )


def _grid(current: Visit) -> list[tuple[str, list[queries.Row]]]:
    """The board's rows by app: the process's kept board (`service/boards.py`), read again only when the
    change log moved."""
    ctx = current.application.ctx
    by_app: dict[str, list[queries.Row]] = {app: [] for app in ctx.pipeline.app_names}
    for row in current.application.board.board().rows:
        by_app[row.app].append(row)
    return list(by_app.items())


def _row(current: Visit, app: str, env: str) -> queries.Row | None:
    return next((r for r in current.application.board.board().rows if r.app == app and r.env == env), None)


def _may_approve(current: Visit, operation: Operation) -> bool:
    assert current.user is not None
    try:
        gates.may_approve(current.user, operation, current.application.ctx.pipeline.env(operation.env))
    except errors.PromobotError:
        return False
    return True


@router.post("/command")
async def command(request: Request) -> Response:
    current = _signed_in(request)
    if not isinstance(current, Visit):
        return current
    said = ""
    try:
        said = (await current.form()).get("command", "")
        return commandbox.run(current, said)
    except errors.PromobotError as exc:
        return _board(current, error=exc, said=said)


@router.get("/operations/{operation_id}")
def operation(request: Request, operation_id: OperationId) -> Response:
    current = _signed_in(request)
    if not isinstance(current, Visit):
        return current
    try:
        found, events = queries.status(current.application.ctx, operation_id)
    except errors.PromobotError as exc:
        return current.render("error.html", status=exc.http_status, message=exc.message, hint=exc.hint)
    return current.render(
        "operation.html",
        op=found,
        events=events,
        may_approve=_may_approve(current, found),
        error=None,
        chat_link=reporting.thread_link(current.application.chat, found),
    )


@router.post("/operations/{operation_id}/{action}")
async def act(request: Request, operation_id: OperationId, action: str) -> Response:
    current = _signed_in(request)
    if not isinstance(current, Visit) or current.user is None:
        return current if not isinstance(current, Visit) else current.redirect("/signin")
    ctx = current.application.ctx
    try:
        await current.form()
        if action == "approve":
            requests.approve(ctx, current.user, operation_id)
        elif action == "cancel":
            requests.cancel(ctx, current.user, operation_id)
        else:
            raise errors.InvalidReference(f"{action!r} is not something an operation does", "approve or cancel")
    except errors.PromobotError as exc:
        found, events = queries.status(ctx, operation_id)
        return current.render(
            "operation.html",
            status=exc.http_status,
            op=found,
            events=events,
            may_approve=False,
            error=exc,
            chat_link=await run_in_threadpool(reporting.thread_link, current.application.chat, found),
        )
    return current.redirect(f"/operations/{operation_id}")


@router.get("/diff")
def diff(request: Request, src: str = "", dst: str = "", app: str = "") -> Response:
    current = _signed_in(request)
    if not isinstance(current, Visit):
        return current
    ctx = current.application.ctx
    names = ctx.pipeline.env_names
    src, dst = src or names[0], dst or names[1]
    try:
        diffs = queries.diff(ctx, src, dst, app or None)
        error = None
    except errors.PromobotError as exc:
        diffs, error = [], exc
    return current.render(
        "diff.html",
        status=error.http_status if error else 200,
        diffs=diffs,
        envs=names,
        src=src,
        dst=dst,
        apps=ctx.pipeline.app_names,
        app=app,
        error=error,
    )


@router.get("/history/{app_name}/{env}")
def history(request: Request, app_name: str, env: str) -> Response:
    current = _signed_in(request)
    if not isinstance(current, Visit):
        return current
    ctx = current.application.ctx
    try:
        deployments = queries.history(ctx, app_name, env, 50)
    except errors.PromobotError as exc:
        return current.render("error.html", status=exc.http_status, message=exc.message, hint=exc.hint)
    operations = queries.operations(ctx, app=app_name, env=env, limit=20).items
    return current.render(
        "history.html", app=app_name, env=env, deployments=deployments, operations=operations, error=None
    )


@router.get("/rollback/{app_name}/{env}")
def confirm_rollback(request: Request, app_name: str, env: str) -> Response:
    current = _signed_in(request)
    if not isinstance(current, Visit):
        return current
    ctx = current.application.ctx
    try:
        ctx.pipeline.app(app_name)
        ctx.pipeline.env(env)
    except errors.PromobotError as exc:
        return current.render("error.html", status=exc.http_status, message=exc.message, hint=exc.hint)
    row = _row(current, app_name, env)
    return current.render("confirm.html", app=app_name, env=env, row=row, error=None)


@router.post("/rollback/{app_name}/{env}")
async def rollback(request: Request, app_name: str, env: str) -> Response:
    current = _signed_in(request)
    if not isinstance(current, Visit) or current.user is None:
        return current if not isinstance(current, Visit) else current.redirect("/signin")
    try:
        await current.form()
        started = requests.rollback(current.application.ctx, current.user, app_name, env)
    except errors.PromobotError as exc:
        row = _row(current, app_name, env)
        return current.render("confirm.html", status=exc.http_status, app=app_name, env=env, row=row, error=exc)
    return current.redirect(f"/operations/{started.id}")


@router.get("/signin")
def signin_page(request: Request) -> HTMLResponse:
    return visit(request).render("signin.html", error=None)


@router.post("/signin")
async def signin(request: Request) -> Response:
    current = visit(request)
    try:
        fields = await current.form()
        user = current.application.user_for(fields.get("token", "").strip())
    except errors.PromobotError as exc:
        return current.render("signin.html", status=exc.http_status, error=exc)
    current.session = current.sessions.signed_in(user)
    return current.redirect("/")


@router.post("/signout")
async def signout(request: Request) -> Response:
    current = visit(request)
    try:
        await current.form()
    except errors.PromobotError as exc:
        return current.render("error.html", status=exc.http_status, message=exc.message, hint=exc.hint)
    current.session = current.sessions.anonymous()
    return current.redirect("/signin")
