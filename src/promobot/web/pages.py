"""Rendering the dashboard's pages: Jinja2 templates (autoescaped), the visitor's session and CSRF token,
and the security headers every page carries (a strict Content-Security-Policy: no inline script or style).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from promobot import __version__
from promobot.bootstrap import Application
from promobot.domain import errors
from promobot.domain.people import User
from promobot.web import session

HERE = Path(__file__).parent
MAX_FORM_BYTES = 16_384
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)


def _age(value: datetime | None) -> str:
    if value is None:
        return ""
    seconds = int((datetime.now(UTC) - (value if value.tzinfo else value.replace(tzinfo=UTC))).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "just now"


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


_templates.filters["age"] = _age
_templates.filters["iso"] = _iso
_templates.filters["short"] = lambda sha: sha[:7]


@dataclass
class Visit:
    """One page view: who (None before sign-in), their session, and the CSRF token forms must carry."""

    request: Request
    sessions: session.Sessions
    session: session.Session
    user: User | None

    @property
    def application(self) -> Application:
        found: Application = self.request.app.state.application
        return found

    @property
    def csrf(self) -> str:
        return self.sessions.csrf(self.session)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = _templates.get_template(template).render(
            user=self.user, csrf=self.csrf, version=__version__, path=self.request.url.path, **values
        )
        response = HTMLResponse(html, status_code=status, headers=HEADERS)
        self.sessions.write(self.request, response, self.session)
        return response

    def redirect(self, url: str) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303, headers=HEADERS)
        self.sessions.write(self.request, response, self.session)
        return response

    async def form(self) -> dict[str, str]:
        """The posted form, after its CSRF token was checked (a mismatch is a 403)."""
        kind = self.request.headers.get("content-type", "").split(";")[0].strip()
        body = await self.request.body()
        if kind != "application/x-www-form-urlencoded" or len(body) > MAX_FORM_BYTES:
            raise errors.InvalidReference("send the form as the page does", "reload the page and try again")
        fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        if not self.sessions.csrf_ok(self.session, fields.get("csrf", "")):
            raise errors.NotAllowed("this form is stale or did not come from promobot", "reload the page and try again")
        return fields


def visit(request: Request) -> Visit:
    sessions = session.sessions(request)
    current = sessions.read(request)
    return Visit(request, sessions, current, sessions.user(current))


def error_page(request: Request, status: int, message: str, hint: str) -> Response:
    """A framework error (no such page) as a page, for browsers."""
    return visit(request).render("error.html", status=status, message=message, hint=hint)
