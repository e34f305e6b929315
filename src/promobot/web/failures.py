"""Errors the framework raises (no such route, wrong method) in promobot's one JSON shape, and the OpenAPI
document saying so: every operation declares its error answers with the `ErrorOut` model.

`install(app)` is called once by `create_app`, after the routes are added.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from promobot.web.schemas import ErrorOut

CODES = {
    400: "invalid_request",
    401: "not_authenticated",
    403: "not_allowed",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
}

# What each status means in promobot; every operation may answer these (400-409 from the rules, 422 for a
# body that does not validate, 5xx when something fails).
ERROR_STATUSES = {
    "400": "Refused: a bad reference, name or request",
    "401": "No or wrong bearer token",
    "403": "The user lacks the role",
    "404": "No such app, environment, artifact, operation or route",
    "405": "Method not allowed on this route",
    "409": "A gate refused, nothing to do, or the operation cannot change",
    "422": "The body, path or query does not validate",
    "500": "A bug; see the server log",
    "502": "Something outside promobot failed",
    "503": "Something outside promobot failed for now; retry",
}

HtmlRenderer = Callable[[Request, int, str, str], Response]


def wants_html(request: Request) -> bool:
    """A browser page (not the API, not a webhook) asking for HTML."""
    path = request.url.path
    if path.startswith(("/api", "/webhooks", "/openapi", "/docs", "/static")):
        return False
    return "text/html" in request.headers.get("accept", "")


def install(app: FastAPI, html: HtmlRenderer | None = None) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = CODES.get(exc.status_code, "error")
        if exc.status_code == 404:
            message = f"no route {request.method} {request.url.path}"
            hint = "see /openapi.json for the API and / for the dashboard"
        elif exc.status_code == 405:
            allowed = _allowed_methods(request)
            exc.headers = {**(exc.headers or {}), "Allow": allowed} if allowed else exc.headers
            message = f"{request.method} is not allowed on {request.url.path}"
            hint = f"use {allowed}" if allowed else ""
        else:
            message, hint = str(exc.detail), ""
        if html is not None and wants_html(request):
            return html(request, exc.status_code, message, hint)
        body = {"error": {"code": code, "message": message, "hint": hint}}
        return JSONResponse(status_code=exc.status_code, content=body, headers=exc.headers)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
            app.openapi_schema = with_errors(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _allowed_methods(request: Request) -> str:
    """Every method the API document lists for this path (Starlette names only the first matching route's)."""
    methods: set[str] = set()
    for template, item in request.app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template)), request.url.path):
            methods.update(method.upper() for method in item)
    return ", ".join(sorted(methods))


def with_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Declare ErrorOut for every error status of every operation; drop FastAPI's own validation shapes."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorOut"] = error_schema
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses[status] = {"description": description, **ref}
    return document
