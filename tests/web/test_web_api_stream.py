"""`GET /api/events`: changes arrive as Server-Sent Events while they happen, and a reconnecting client
gets what it missed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from promobot.domain.operations import State
from support.running import free_port, until
from support.sse import read_events
from support.webapp import Web


class Served:
    """The web app under a real uvicorn on loopback, in a thread."""

    def __init__(self, web: Web) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(web.app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        until(lambda: self.server.started, 10, "uvicorn to start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    made = Web(tmp_path / "sandbox")
    made.application.feed.stream_seconds = 10.0  # a test ends at its event; a loaded machine is slow
    yield made
    made.application.feed.close()  # stops following the change log
    made.close()


@pytest.fixture
def served(web: Web) -> Iterator[Served]:
    made = Served(web)
    yield made
    made.stop()


def test_an_approval_streams_the_operation_change_as_it_happens(web: Web, served: Served) -> None:
    waiting = web.operation(state=State.AWAITING_APPROVAL)
    with httpx.stream("GET", served.url + "/api/events", headers=web.auth(), timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        threading.Timer(0.3, lambda: web.post(f"/api/operations/{waiting.id}/approve", user="release-manager")).start()
        events = read_events(response, "operation")
    [change] = [e for e in events if e["event"] == "operation"]
    assert change["data"]["id"] == waiting.id
    assert (change["data"]["state"], change["data"]["step"]) == ("running", "approved")
    assert int(change["id"]) > 0  # the change log's id: the same on every replica


def test_a_reconnecting_client_gets_the_changes_it_missed_in_order(web: Web) -> None:
    web.application.feed.stream_seconds = 0.2
    first = web.operation(app="web", env="prod")
    second = web.operation(app="api", env="prod")
    seen = _newest(web)  # the last change this client saw
    web.post(f"/api/operations/{first.id}/cancel")
    web.post(f"/api/operations/{second.id}/cancel")
    answer = web.http.get("/api/events", headers={**web.auth(), "Last-Event-ID": str(seen)})
    events = [e for e in _parse(answer.text) if e.get("event") == "operation"]
    states = [(e["data"]["id"], e["data"]["state"]) for e in events]
    assert states == [(first.id, "cancelled"), (second.id, "cancelled")]
    assert [int(e["id"]) for e in events] == sorted(int(e["id"]) for e in events)


@pytest.mark.parametrize("last_id", ["0000-5", "12abc", "99999999999999999999"])
def test_a_client_whose_last_id_this_database_never_gave_is_told_to_reset(web: Web, last_id: str) -> None:
    web.application.feed.stream_seconds = 0.2
    web.operation()
    answer = web.http.get("/api/events", headers={**web.auth(), "Last-Event-ID": last_id})
    assert [e["event"] for e in _parse(answer.text)] == ["reset"]


def test_a_client_whose_changes_were_pruned_is_told_to_reset(web: Web) -> None:
    web.application.feed.stream_seconds = 0.2
    web.operation(app="web")
    seen = _newest(web)
    web.operation(app="api")
    web.deployed("web", "qa", "a" * 40)
    changes = web.application.feed.changes
    assert changes is not None
    changes.prune(before=datetime.now(UTC) + timedelta(days=1), keep=1)
    answer = web.http.get("/api/events", headers={**web.auth(), "Last-Event-ID": str(seen)})
    assert [e["event"] for e in _parse(answer.text)] == ["reset"]


def test_deployment_changes_are_streamed_too(web: Web) -> None:
    web.application.feed.stream_seconds = 0.2
    seen = _newest(web)
    web.deployed("web", "qa", "a" * 40)
    answer = web.http.get("/api/events", headers={**web.auth(), "Last-Event-ID": str(seen)})
    [event] = _parse(answer.text)
    assert event["event"] == "deployment"
    assert (event["data"]["artifact"], event["data"]["state"]) == ("web:qa-aaaaaaa", "healthy")


def test_the_stream_needs_a_token_or_a_signed_in_session(web: Web) -> None:
    assert web.http.get("/api/events").status_code == 401
    web.http.cookies.set("promobot_session", "forged.value")
    assert web.http.get("/api/events").status_code == 401


def _parse(text: str) -> list[dict[str, Any]]:
    found = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if "event" in fields:
            found.append({**fields, "data": json.loads(fields["data"])})
    return found


def _newest(web: Web) -> int:
    changes = web.application.feed.changes
    assert changes is not None
    return changes.version(0)[0]
