"""`POST /slack/events`: Slack's slash commands, clicks and events, handed to the Slack app. Thin.

The body is read raw (the signature covers its exact bytes) and handed to the Slack app on the event loop
itself: the app only checks the signature, acks and queues the work on its own threads (about 0.1 ms of
CPU, never waiting on I/O), so a hop to a worker thread and back would cost an ack more than it saves.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from promobot.domain import errors
from promobot.web.auth import application_of

router = APIRouter()


@router.post("/slack/events", include_in_schema=False)
async def slack_events(request: Request) -> Response:
    slack = application_of(request).slack
    if slack is None:
        raise errors.UnknownOperation("Slack is not configured on this server", "add a `slack:` section to the config")
    body = await request.body()
    status, headers, text = slack.handle_http(body, request.headers)
    return Response(content=text, status_code=status, headers=headers)
