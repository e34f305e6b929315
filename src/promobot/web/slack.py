"""`POST /slack/events`: Slack's slash commands, clicks and events, handed to the Slack app. Thin.

The body is read raw (the signature covers its exact bytes) and handled on a worker thread, because the
Slack app blocks until its listener acks.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from promobot.domain import errors
from promobot.web.auth import App

router = APIRouter()


@router.post("/slack/events", include_in_schema=False)
async def slack_events(request: Request, app: App) -> Response:
    if app.slack is None:
        raise errors.UnknownOperation("Slack is not configured on this server", "add a `slack:` section to the config")
    body = await request.body()
    status, headers, text = await run_in_threadpool(app.slack.handle_http, body, dict(request.headers))
    return Response(content=text, status_code=status, headers=headers)
