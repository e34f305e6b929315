"""Who is calling: API tokens for people, the webhook token for the intake.

The dependencies are coroutines: each is a dictionary lookup and a constant-time compare, so FastAPI runs
them on the event loop instead of sending every request through its thread pool once more per dependency.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from promobot.bootstrap import Application
from promobot.domain import errors
from promobot.domain.people import User
from promobot.web import session


def application_of(request: Request) -> Application:
    app: Application = request.app.state.application
    return app


async def application(request: Request) -> Application:
    return application_of(request)


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.NotAuthenticated("missing bearer token", "send `Authorization: Bearer <your API token>`")
    return token.strip()


async def current_user(
    app: Annotated[Application, Depends(application)],
    authorization: Annotated[str | None, Header()] = None,
) -> User:
    return app.user_for(_bearer(authorization))


async def webhook_caller(
    app: Annotated[Application, Depends(application)],
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    if not app.webhook_allowed(_bearer(authorization)):
        raise errors.NotAuthenticated("the webhook token is not valid")


Caller = Annotated[User, Depends(current_user)]
App = Annotated[Application, Depends(application)]


async def bearer_or_session(
    request: Request,
    app: Annotated[Application, Depends(application)],
    authorization: Annotated[str | None, Header()] = None,
) -> User:
    """A bearer token when one is sent; otherwise the dashboard's session cookie (for read-only streams)."""
    if authorization is not None:
        return app.user_for(_bearer(authorization))
    store = session.sessions(request)
    user = store.user(store.read(request))
    if user is None:
        raise errors.NotAuthenticated("missing bearer token", "send `Authorization: Bearer <your API token>`")
    return user


Viewer = Annotated[User, Depends(bearer_or_session)]
