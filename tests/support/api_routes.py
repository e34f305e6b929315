"""Every route of the web app, read from `create_app(...).routes`: which ones take a person's bearer token
(the REST API) and, for each of those, one request that reaches it.

Tests that must cover every API endpoint (tests/web/test_web_api_endpoints.py, tests/hostile/test_hostile_api.py)
parametrize over `BEARER`, so a route added to the app is a new case of theirs: one with no entry in `REACH`
fails naming it. A route that takes no bearer token is left out only by an entry in `OTHER_DOORS` saying
how it is reached instead and which tests cover that. `stale()` names entries of either table that no route
matches any more.

Requests reach `/api/operations/1` and lock `qa`: a site that seeds operation 1 and a lock on `prod` sees
whether a refused request changed anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest
from starlette.routing import BaseRoute

from promobot.bootstrap import Application
from promobot.web.app import create_app

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # FastAPI before 0.16x copied an included router's routes into app.routes, flat

    def iter_route_contexts(routes: Iterable[BaseRoute]) -> Iterator[Any]:  # type: ignore[misc]
        return iter(routes)


@dataclass(frozen=True)
class Reach:
    path: str  # the route's path with its parameters filled in
    body: Any = None  # JSON; valid, so that only the token can be what is refused


REACH: dict[tuple[str, str], Reach] = {
    ("POST", "/api/promote"): Reach("/api/promote", {"artifact": "web:dev-1a2b3c4"}),
    ("POST", "/api/rollback"): Reach("/api/rollback", {"target": "web", "env": "qa"}),
    ("POST", "/api/operations/{operation_id}/approve"): Reach("/api/operations/1/approve"),
    ("POST", "/api/operations/{operation_id}/cancel"): Reach("/api/operations/1/cancel"),
    ("GET", "/api/operations/{operation_id}"): Reach("/api/operations/1"),
    ("GET", "/api/operations"): Reach("/api/operations"),
    ("GET", "/api/list"): Reach("/api/list"),
    ("GET", "/api/history/{app_name}/{env}"): Reach("/api/history/web/qa"),
    ("GET", "/api/diff/{src}/{dst}"): Reach("/api/diff/development/qa"),
    ("GET", "/api/events"): Reach("/api/events"),  # refused before the stream starts
    ("GET", "/api/locks"): Reach("/api/locks"),
    ("POST", "/api/locks/{env}"): Reach("/api/locks/qa", {"reason": "release freeze"}),
    ("DELETE", "/api/locks/{env}"): Reach("/api/locks/prod"),
    ("GET", "/api/audit"): Reach("/api/audit"),
    ("POST", "/api/commands"): Reach("/api/commands", {"text": "/lock qa"}),
}

_INTAKE = "the sender's webhook token or signature, no person's: tests/hostile/test_hostile_intake_matrix.py"
_DASHBOARD = "the dashboard: a signed session cookie and a CSRF token, tests/web/test_web_dashboard.py"
_PUBLIC = "public on purpose, no token at all"

# Routes deliberately not in the bearer-token tests, each with how it is reached instead (by path: every method).
OTHER_DOORS: dict[str, str] = {
    "/openapi.json": f"{_PUBLIC}: the API document (tests/web/test_web_api_schema.py)",
    "/docs": f"{_PUBLIC}: Swagger UI over /openapi.json",
    "/docs/oauth2-redirect": f"{_PUBLIC}: Swagger UI's sign-in redirect page",
    "/redoc": f"{_PUBLIC}: ReDoc over /openapi.json",
    "/healthz": f"{_PUBLIC}: the liveness probe",
    "/readyz": f"{_PUBLIC}: the readiness probe",
    "/static": f"{_PUBLIC}: the dashboard's CSS and JavaScript",
    "/webhooks/git": _INTAKE,
    "/webhooks/artifacts": _INTAKE,
    "/webhooks/engine": _INTAKE,
    "/webhooks/registry": _INTAKE,
    "/webhooks/{source}": _INTAKE,
    "/slack/events": "Slack's request signature (v0, signing secret): tests/web/test_web_slack.py",
    "/": _DASHBOARD,
    "/board": _DASHBOARD,
    "/command": _DASHBOARD,
    "/operations/{operation_id}": _DASHBOARD,
    "/operations/{operation_id}/{action}": _DASHBOARD,
    "/diff": _DASHBOARD,
    "/history/{app_name}/{env}": _DASHBOARD,
    "/rollback/{app_name}/{env}": _DASHBOARD,
    "/signin": f"{_DASHBOARD} (the sign-in form itself takes a person's token in its body)",
    "/signout": _DASHBOARD,
}


def routes() -> list[tuple[str, str]]:
    """(method, path) of every route the app serves; HEAD is left out (Starlette adds it to every GET), and a
    mount (no methods) is listed as ("*", path)."""
    # The routes do not depend on the application, which is neither read nor started here.
    app = create_app(cast(Application, None), manage_lifecycle=False)
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        methods = set(route.methods or {"*"}) - {"HEAD"}
        found.update((method, str(route.path)) for method in methods)
    return sorted(found, key=lambda r: (r[1], r[0]))


ALL = routes()
BEARER = [(method, path) for method, path in ALL if path not in OTHER_DOORS]


def reach(method: str, path: str) -> Reach:
    """The request for one route of `BEARER`; a route with no entry fails the test, naming it."""
    found = REACH.get((method, path))
    if found is None:
        pytest.fail(
            f"{method} {path} is a route of the app with no request in tests/support/api_routes.py: add one to REACH "
            "(it takes a person's bearer token), or to OTHER_DOORS with how it is reached instead",
            pytrace=False,
        )
    return found


def stale() -> list[str]:
    """Entries of REACH and OTHER_DOORS that no route of the app matches any more."""
    paths = {path for _, path in ALL}
    gone = [f"REACH {method} {path}" for method, path in REACH if (method, path) not in BEARER]
    return gone + [f"OTHER_DOORS {path}" for path in OTHER_DOORS if path not in paths]
