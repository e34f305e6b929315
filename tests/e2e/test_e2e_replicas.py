"""Several `promobot serve` replicas on one PostgreSQL: one runs the builder and runtime; when it is killed
with SIGKILL another takes them over within seconds, and a push to develop is still built and deployed once.
Replicas reporting to one Slack workspace post one top-level message per operation between them, and one
thread line per change of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from support import databases
from support.crashing import report_to
from support.fake_slack import FakeSlack
from support.replicas import Api, Replicas
from support.running import Setup, free_port, serves, until

pytestmark = pytest.mark.slow


@pytest.fixture
def postgresql_url(tmp_path: Path) -> Iterator[str]:
    with databases.fresh(databases.POSTGRESQL, tmp_path / "db") as url:
        yield url


@pytest.mark.parametrize("replicas", [2, 3])
def test_killing_the_replica_that_runs_the_builder_hands_its_duties_to_another(
    replicas: int, postgresql_url: str, tmp_path: Path
) -> None:
    setup = Setup(tmp_path / "sandbox", database_url=postgresql_url)
    ports = [setup.port] + [free_port() for _ in range(replicas - 1)]  # the first one gets the git hooks
    group = Replicas(setup.config, ports=ports, logs=tmp_path / "logs")
    api = Api(group, (setup.root / "tokens" / "developer.token").read_text().strip())
    try:
        group.start_all()
        holder = group.wait_for_holder(20)
        first = until(
            lambda: (r := api.row("web", "development"))["state"] == "healthy" and r, 40, "development healthy"
        )
        assert serves(first["url"], first["source_revision"])

        holder.kill()
        killed_at = time.monotonic()
        successor = group.wait_for_holder(15, besides=holder)
        took_over = time.monotonic() - killed_at
        assert took_over < 10, f"took {took_over:.1f}s to take the duties over"

        work = setup.clone()
        change = setup.push(work, "Release version 2", {"VERSION": "2\n"})
        dev = until(
            lambda: (r := api.row("web", "development"))["source_revision"] == change
            and r["state"] == "healthy"
            and r,
            60,
            "the push after the takeover to be healthy in development",
        )
        assert dev["artifact"] == f"web:dev-{change[:7]}"
        assert serves(dev["url"], change)  # the successor's runtime serves it

        deploys = [
            op
            for op in api.json("GET", "/api/operations", params={"app": "web", "env": "development", "limit": 50})
            if op["source_revision"] == change
        ]
        assert [op["state"] for op in deploys] == ["succeeded"], deploys  # deployed once
        others = [m for m in group.alive if m is not successor]
        assert all(not m.holds_duties() for m in others)
        print(f"replicas={replicas} takeover={took_over:.1f}s successor=port {successor.port}")
    except AssertionError:
        print(group.log_text())
        raise
    finally:
        group.stop_all()


def test_replicas_reporting_to_one_slack_post_one_message_per_operation(postgresql_url: str, tmp_path: Path) -> None:
    slack = FakeSlack().start()
    slack.post_delay = 1.5  # a slow first post: the other replica reports the operation meanwhile
    setup = Setup(tmp_path / "sandbox", database_url=postgresql_url)
    report_to(setup, slack)
    group = Replicas(setup.config, ports=[setup.port, free_port()], logs=tmp_path / "logs")
    api = Api(group, (setup.root / "tokens" / "developer.token").read_text().strip())
    try:
        group.start_all()
        until(lambda: api.row("web", "development")["state"] == "healthy", 40, "development healthy")
        work = setup.clone()
        for n, replica in enumerate(group.members * 2):  # each command at one replica, the work at any
            change = setup.push(work, f"Release {n}", {"VERSION": f"{n}\n"})
            until(partial(_deployed, api, change), 60, f"push {n} healthy in development")
            body = {"artifact": f"web:dev-{change[:7]}", "env": "qa"}
            promoted = api.json("POST", "/api/promote", json=body, replica=replica)["id"]
            until(partial(_succeeded, api, promoted), 60, f"promotion {promoted} to succeed")
        operations = api.json("GET", "/api/operations", params={"app": "web", "limit": 200})
        rounds = 2 * len(group.members)
        assert len(operations) == 1 + 2 * rounds  # the first deploy, then each push's deploy and its promotion

        def unsettled() -> dict[int, list[str]]:
            found = {}
            for op in operations:
                posts = [m for m in slack.top_level() if f"(operation #{op['id']}," in m["text"]]
                said = slack.latest_text(posts[0]["ts"]) if len(posts) == 1 else ""
                if len(posts) != 1 or not said.startswith(f"[{op['state']}]"):
                    found[op["id"]] = [m["ts"] for m in posts] + [said]
                    continue
                changes = len(api.json("GET", f"/api/operations/{op['id']}")["events"])
                thread = slack.thread(posts[0]["channel"], posts[0]["ts"])
                keys = [m["metadata"]["event_payload"]["key"] for m in thread]
                if keys != [f"operation-{op['id']}/{k}" for k in range(1, changes + 1)]:  # each line once, in order
                    found[op["id"]] = [f"{changes} changes, thread lines {keys}"]
            return found

        deadline = time.monotonic() + 30
        while (left := unsettled()) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not left, f"operations without one Slack message saying how they ended, one line a change: {left}"
        assert len(slack.top_level()) == len(operations)
    except AssertionError:
        print(group.log_text())
        raise
    finally:
        group.stop_all()
        slack.stop()


def _deployed(api: Api, change: str) -> bool:
    row = api.row("web", "development")
    return bool(row["source_revision"] == change and row["state"] == "healthy")


def _succeeded(api: Api, operation_id: int) -> bool:
    return bool(api.json("GET", f"/api/operations/{operation_id}")["state"] == "succeeded")
