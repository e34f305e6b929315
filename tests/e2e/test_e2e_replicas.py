"""Several `promobot serve` replicas on one PostgreSQL: one runs the builder and runtime; when it is killed
with SIGKILL another takes them over within seconds, and a push to develop is still built and deployed once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import databases
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
