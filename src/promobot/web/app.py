"""Build the ASGI app for an Application: routes, error mapping, start and stop of background parts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from promobot import __version__
from promobot.bootstrap import Application
from promobot.domain import errors
from promobot.web import api, commands, dashboard, failures, integrations, pages, registry_hook, slack, webhooks

log = structlog.get_logger(__name__)


def error_response(status: int, code: str, message: str, hint: str = "") -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message, "hint": hint}})


def create_app(application: Application, *, manage_lifecycle: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            application.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                application.stop()

    app = FastAPI(title="promobot", version=__version__, lifespan=lifespan)
    app.state.application = application
    app.include_router(api.router)
    app.include_router(webhooks.router)
    app.include_router(commands.router)
    app.include_router(slack.router)
    app.include_router(registry_hook.router)
    app.include_router(integrations.router)  # after the fixed /webhooks/* routes: its path is /webhooks/{source}
    app.include_router(dashboard.router)
    app.mount("/static", StaticFiles(directory=pages.HERE / "static"), name="static")
    failures.install(app, html=pages.error_page)

    @app.exception_handler(errors.PromobotError)
    async def promobot_error(_: Request, exc: errors.PromobotError) -> JSONResponse:
        return error_response(exc.http_status, exc.code, exc.message, exc.hint)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return error_response(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("request failed", error=type(exc).__name__, exc_info=exc)
        return error_response(500, "internal", "promobot failed to handle this request; see the server log")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> dict[str, str]:
        with application.ctx.store.unit_of_work() as uow:
            uow.operations.recent(limit=1)
        return {"status": "ready"}

    return app
