"""Benchmark 4, list: GET /api/list of a real `promobot serve` with 1,000 apps x 4 environments and
100,000 deployment history rows (seeded in bulk), on SQLite and on PostgreSQL.

The server keeps the serialised board until the store's change counter moves, so three kinds of request
are timed over one keep-alive connection (200 of each unless said) and reported apart (p50 and p99):

- `unchanged`: the board did not change since the previous request (the kept copy, full 1.2 MB body);
- `not_modified`: the same, with the previous ETag in `If-None-Match` (a 304, no body);
- `changed`: one deployment was recorded (by this script, through the store, untimed) before each
  request, so the server reads that row again and re-serialises it (the usual cold path);
- `changed_wide`: 250 deployments of as many (app, env)s before each of 50 requests (a burst), which the
  server reads again in one go (`ChangeLog.current_since`) and re-serialises.

Beside them, in this process: the CPU time of one cold board (`queries.board` + the JSON, as after a
restart), of bringing the kept board and its JSON up to date after 250 pairs changed, and of the
per-request version query. The 1-minute load average is printed with every figure (a shared machine).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import world
from common import SMOKE, emit, median, ms, note, percentile, profiled, scratch, size

from promobot import bootstrap, config
from promobot.adapters.store.sql import SqlStore
from promobot.domain.deployments import Deployment, Health
from promobot.service import queries
from promobot.web import board_cache
from support import databases, running

WIDE = 250  # pairs changed before each `changed_wide` request


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def timed(client: httpx.Client, requests: int, before: Callable[[int], dict[str, str]]) -> tuple[list[float], int]:
    """Seconds per request, and how many answers carried another ETag than the one before (rebuilt boards)."""
    took: list[float] = []
    moved, last = 0, None
    for n in range(requests):
        headers = before(n)
        begin = time.perf_counter()
        answer = client.get("/api/list", headers=headers)
        took.append(time.perf_counter() - begin)
        assert answer.status_code in (200, 304), answer.status_code
        moved += last is not None and answer.headers["etag"] != last
        last = answer.headers["etag"]
    return took, moved


def report(kind: str, name: str, measured: tuple[list[float], int]) -> None:
    took, moved = measured
    emit(f"list_{kind}_{name}_p50", ms(percentile(took, 50)), "ms")
    emit(f"list_{kind}_{name}_p99", ms(percentile(took, 99)), "ms")
    note(f"list_{kind}_{name}_detail", f"{load()}; the ETag moved {moved} times in {len(took)} requests")


def settle(client: httpx.Client, quiet: float = 0.3 if SMOKE else 2.0, limit: float = 60.0) -> None:
    """Wait until the board stops changing (the worker fails the seeded stale operations once, at start)."""
    deadline = time.monotonic() + limit
    etag, since = client.get("/api/list").headers["etag"], time.monotonic()
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.25)
        now = client.get("/api/list").headers["etag"]
        if now != etag:
            etag, since = now, time.monotonic()


def deploy(store: SqlStore, n: int, pairs: int = 1) -> None:
    """Record deployments of `pairs` seeded (app, env)s in one transaction, as engine reports would."""
    names = world.app_names(max(1, pairs // len(world.ENVS) + 1))
    with store.unit_of_work() as uow:
        for k in range(pairs):
            app, env = names[k // len(world.ENVS)], world.ENVS[(n + k) % len(world.ENVS)]
            sha = world.sha(10**9 + n * pairs + k)
            uow.deployments.add(
                Deployment(
                    app=app,
                    env=env,
                    tag=f"{world.PREFIX[env]}-{sha[:7]}",
                    digest=world.digest(10**9 + n),
                    source_revision=sha,
                    revision=sha,
                    state=Health.HEALTHY,
                    deployed_by="dana",
                    url="",
                    started_at=datetime.now(UTC),
                )
            )
        uow.commit()


def in_process(kind: str, config_path: Path, writer: SqlStore) -> None:
    """CPU per cold board, per board brought up to date after `WIDE` changes, and per version query,
    without HTTP, in this process."""
    application = bootstrap.build(config.load(str(config_path)), background=False)
    ctx, changes = application.ctx, application.feed.changes
    assert changes is not None

    def cpu(action: Callable[[], object], runs: int) -> float:
        spent = []
        for _ in range(runs):
            begin = time.process_time()
            action()
            spent.append(time.process_time() - begin)
        return median(spent)

    emit(f"list_{kind}_inprocess_cold_cpu", ms(cpu(lambda: board_cache.board_json(queries.board(ctx)), 20)), "ms")
    emit(f"list_{kind}_inprocess_version_cpu", ms(cpu(lambda: changes.version(0), 200)), "ms")
    cache = board_cache.BoardCache(ctx, application.board)
    cache.answer()
    spent = []
    for n in range(size(20, 3)):
        deploy(writer, 10**6 + n, pairs=min(len(ctx.pipeline.app_names) * len(world.ENVS), WIDE))
        begin = time.process_time()
        cache.answer()
        spent.append(time.process_time() - begin)
    emit(f"list_{kind}_inprocess_wide_cpu", ms(median(spent)), "ms")
    note(f"list_{kind}_inprocess_load", load())
    application.ctx.store.dispose()  # type: ignore[attr-defined]


def measure(kind: str, *, apps: int, history: int, requests: int) -> None:
    with scratch(f"list-{kind}") as root, world.database(kind, root) as url:
        start = time.perf_counter()
        world.seed(url, apps=apps, history=history)
        note(
            f"list_{kind}_seeded",
            f"{history} deployments over {apps} apps x 4 envs in {time.perf_counter() - start:.1f} s",
        )
        setup = world.setup(root, apps=apps, database_url=url)
        writer = SqlStore(url)
        try:
            over_http(kind, setup, writer, apps=apps, requests=requests)
            in_process(kind, setup.config, writer)
        finally:
            writer.dispose()


def over_http(kind: str, setup: running.Setup, writer: SqlStore, *, apps: int, requests: int) -> None:
    """The four kinds of request to a real `promobot serve`, stopped afterwards."""
    setup.start()
    try:
        headers = {"Authorization": f"Bearer {world.token(setup)}"}
        with httpx.Client(base_url=setup.base_url, headers=headers, timeout=30) as client:
            rows = client.get("/api/list").json()
            assert len(rows) == apps * 4, f"expected {apps * 4} rows, got {len(rows)}"
            for _ in range(5):
                client.get("/api/list").raise_for_status()
            settle(client)
            assert setup.process is not None
            with profiled(setup.process.pid, f"list_{kind}"):
                report(kind, "unchanged", timed(client, requests, lambda n: {}))
                etag = client.get("/api/list").headers["etag"]
                not_modified = client.get("/api/list", headers={"If-None-Match": etag})
                assert not_modified.status_code == 304, not_modified.status_code
                report(kind, "not_modified", timed(client, requests, lambda n: {"If-None-Match": etag}))

                def changed(n: int) -> dict[str, str]:
                    deploy(writer, n)
                    return {}

                report(kind, "changed", timed(client, requests, changed))
                wide = min(apps * len(world.ENVS), WIDE)

                def changed_wide(n: int) -> dict[str, str]:
                    deploy(writer, n, pairs=wide)
                    return {}

                report(kind, "changed_wide", timed(client, max(requests // 4, 5), changed_wide))
            after = client.get("/api/list", headers={"If-None-Match": etag})
            assert after.status_code == 200, "the board changed: the old ETag must get the new board"
    finally:
        setup.stop()


def main() -> None:
    apps, history, requests = size(1000, 20), size(100_000, 2_000), size(200, 10)
    note("list_shape", f"{apps} apps x 4 envs = {apps * 4} rows per response; {requests} requests of each kind")
    for kind in databases.KINDS:
        measure(kind, apps=apps, history=history, requests=requests)
    note("list_target", "p99 <= 30 ms")


if __name__ == "__main__":
    main()
