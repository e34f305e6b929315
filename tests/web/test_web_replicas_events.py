"""Two replicas on one database: what one changes, the other's `/api/events` streams and its `/api/list`
shows at once (its kept copy is keyed on the store's change counter, not on what it did itself)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from promobot import bootstrap
from promobot.domain.deployments import Deployment, Health
from promobot.domain.operations import State
from promobot.web.app import create_app
from support import databases
from support.running import free_port, until
from support.sse import read_events
from support.webapp import Web


class Served:
    """A second replica: its own Application and web app on the same config and database, under uvicorn."""

    def __init__(self, web: Web) -> None:
        self.application = bootstrap.build(web.loaded, background=False)
        self.application.feed.stream_seconds = 10.0  # the test ends at the event; a loaded machine is slow
        self.url = f"http://127.0.0.1:{free_port()}"
        port = int(self.url.rsplit(":", 1)[1])
        app = create_app(self.application, manage_lifecycle=False)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        until(lambda: self.server.started, 10, "uvicorn to start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.application.feed.close()
        self.application.ctx.store.dispose()  # type: ignore[attr-defined]


@dataclass
class Pair:
    kind: str
    first: Web
    second: Served


@pytest.fixture(params=databases.KINDS)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pair]:
    with databases.fresh(request.param, tmp_path / "database") as url:

        def on_the_shared_database(settings: dict[str, Any], root: Path) -> None:
            settings["database"] = url

        first = Web(tmp_path / "sandbox", configure=on_the_shared_database)
        second = Served(first)
        try:
            yield Pair(request.param, first, second)
        finally:
            second.stop()
            first.application.feed.close()
            first.close()


def test_an_approval_on_one_replica_is_streamed_by_the_other(pair: Pair) -> None:
    waiting = pair.first.operation(state=State.AWAITING_APPROVAL)
    approve = threading.Timer(
        0.5, lambda: pair.first.post(f"/api/operations/{waiting.id}/approve", user="release-manager")
    )
    with httpx.stream("GET", pair.second.url + "/api/events", headers=pair.first.auth(), timeout=10) as response:
        approve.start()
        events = read_events(response, "operation")
    [change] = [e for e in events if e["event"] == "operation"]
    data = change["data"]
    assert (data["id"], data["state"], data["step"]) == (waiting.id, "running", "approved")


def test_a_deployment_recorded_by_one_replica_is_in_the_others_list_at_once(pair: Pair) -> None:
    headers = pair.first.auth()
    before = httpx.get(pair.second.url + "/api/list", headers=headers)
    pair.first.deployed("web", "qa", "a" * 40)
    after = httpx.get(pair.second.url + "/api/list", headers={**headers, "If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert _artifact(after.json(), "web", "qa") == "web:qa-aaaaaaa"


def test_a_change_that_commits_after_a_later_one_still_reaches_the_list(pair: Pair) -> None:
    if pair.kind == databases.SQLITE:
        pytest.skip("SQLite runs one writing transaction at a time: changes commit in id order")
    store = pair.first.application.ctx.store
    headers = pair.first.auth()
    with store.unit_of_work() as slow:
        slow.deployments.add(_deployment("web"))  # takes the lower change id, commits last
        with store.unit_of_work() as quick:
            quick.deployments.add(_deployment("api"))
            quick.commit()
        early = httpx.get(pair.second.url + "/api/list", headers=headers)
        assert (_artifact(early.json(), "web", "qa"), _artifact(early.json(), "api", "qa")) == ("", "api:qa-aaaaaaa")
        slow.commit()
    late = httpx.get(pair.second.url + "/api/list", headers={**headers, "If-None-Match": early.headers["etag"]})
    assert late.status_code == 200
    assert _artifact(late.json(), "web", "qa") == "web:qa-aaaaaaa"


def _deployment(app: str) -> Deployment:
    sha = "a" * 40
    return Deployment(
        app=app, env="qa", tag="qa-aaaaaaa", digest="sha256:" + "0" * 64, source_revision=sha, revision=sha,
        state=Health.HEALTHY, deployed_by="developer", url="",
    )  # fmt: skip


def _artifact(rows: list[dict[str, Any]], app: str, env: str) -> str:
    [row] = [r for r in rows if (r["app"], r["env"]) == (app, env)]
    return str(row["artifact"])
