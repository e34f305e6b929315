"""Benchmark 3, end to end embedded: push to develop -> healthy in development; promote -> healthy in qa.

The sample app in a sandbox (real bare repositories, OCI-layout registry, SQLite) run by a real
`promobot serve`, as tests/support/running.py does for the end-to-end tests. Each run pushes a commit to
`develop` and times until GET /api/list shows it healthy in development (hook, build, pin, start, health
check, report), then POSTs /api/promote and times until qa shows it healthy. Medians over the runs.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from common import emit, median, ms, note, scratch, size

from support import running

POLL = 0.02
TIMEOUT = 90.0


def wait_healthy(client: httpx.Client, env: str, revision: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        rows: list[dict[str, Any]] = client.get("/api/list").json()
        row = next(r for r in rows if r["app"] == "web" and r["env"] == env)
        if row["source_revision"] == revision and row["state"] == "healthy":
            return
        if row["source_revision"] == revision and row["state"] in ("failed", "degraded"):
            raise SystemExit(f"{revision[:7]} went {row['state']} in {env}")
        time.sleep(POLL)
    raise SystemExit(f"{revision[:7]} was not healthy in {env} within {TIMEOUT:.0f} s")


def main() -> None:
    runs = size(5, 1)
    with scratch("e2e") as root:
        setup = running.Setup(root / "sandbox")
        setup.start()
        try:
            token = (setup.root / "tokens" / "developer.token").read_text().strip()
            first = setup.git("rev-parse", "refs/heads/develop")
            with httpx.Client(
                base_url=setup.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as client:
                wait_healthy(client, "development", first)  # the start-up scan builds and deploys develop
                work = setup.clone()
                pushed: list[float] = []
                promoted: list[float] = []
                for n in range(runs):
                    start = time.perf_counter()
                    sha = setup.push(work, f"Bench change {n}", {"VERSION": f"bench {n}\n"})
                    wait_healthy(client, "development", sha)
                    pushed.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    answer = client.post("/api/promote", json={"artifact": f"web:dev-{sha[:7]}"})
                    answer.raise_for_status()
                    wait_healthy(client, "qa", sha)
                    promoted.append(time.perf_counter() - start)
        finally:
            setup.stop()
        note("end_to_end_runs", f"{runs} pushes, each then promoted to qa; polled every {ms(POLL):.0f} ms")
        emit("end_to_end_push_to_healthy_median", median(pushed), "s")
        emit("end_to_end_push_to_healthy_max", max(pushed), "s")
        emit("end_to_end_promote_to_healthy_median", median(promoted), "s")
        emit("end_to_end_promote_to_healthy_max", max(promoted), "s")
        note("end_to_end_target", "<= 3 s each")


if __name__ == "__main__":
    main()
