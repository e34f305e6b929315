"""`GET /api/events`: operation and deployment changes as they happen, as Server-Sent Events.

Each event is `event: operation` or `event: deployment`, `id:` the change's id in the store's change log
(the same on every replica, so a client may reconnect to any of them) and `data:` the same JSON as the
REST API's Operation or Deployment, as it is when the event is sent. A response lasts
`Feed.stream_seconds` (so a stopping server is never held open by a dashboard), then ends; browsers
reconnect by themselves with `Last-Event-ID` and get what they missed replayed. When it cannot be
replayed (pruned from the log, or an id this database never gave) the stream starts with `event: reset`:
re-read the state you show.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from promobot.feed import Change
from promobot.web.auth import App, Viewer
from promobot.web.schemas import DeploymentOut, OperationOut

router = APIRouter()
KEEPALIVE_SECONDS = 15.0
RETRY_MS = 1000

DESCRIPTION = """A text/event-stream of changes, from every replica. Events: `operation` and `deployment`
(data: the JSON of an Operation or Deployment), `reset` (data: `{}`; replay was impossible, re-read the
state). Send `Last-Event-ID` (browsers do when they reconnect) to get the changes after that id.
Authenticate with a bearer token, or the dashboard's session cookie."""


@router.get(
    "/events",
    response_class=StreamingResponse,
    description=DESCRIPTION,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": "events"}},
)
async def events(
    user: Viewer,
    app: App,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=100)] = None,
) -> StreamingResponse:
    feed = app.feed
    subscription = feed.subscribe()  # before reading the replay, so nothing falls between the two
    try:
        missed = await run_in_threadpool(feed.since, last_event_id)  # may read the change log
    except BaseException:
        feed.unsubscribe(subscription)
        raise
    replayed = {old.seq for old in missed or ()}

    async def body() -> AsyncIterator[str]:
        try:
            yield f"retry: {RETRY_MS}\n\n"
            if missed is None:
                yield "event: reset\ndata: {}\n\n"
            else:
                for old in missed:
                    yield _frame(old)
            deadline = time.monotonic() + feed.stream_seconds
            while (left := deadline - time.monotonic()) > 0:
                try:
                    change: Change | None = await asyncio.wait_for(
                        subscription.queue.get(), min(left, KEEPALIVE_SECONDS)
                    )
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if change is None:
                    return
                if change.seq not in replayed:
                    yield _frame(change)
        finally:
            feed.unsubscribe(subscription)

    return StreamingResponse(
        body(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


def _frame(change: Change) -> str:
    if change.kind == "operation":
        data = OperationOut.of(change.value).model_dump(mode="json")
    else:
        data = DeploymentOut.of(change.value).model_dump(mode="json")
    return f"id: {change.id}\nevent: {change.kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
