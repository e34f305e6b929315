"""Benchmark 7, rollback lookup with 10,000 tags in a real registry: choose and verify the target.

A real Distribution registry (Debian's `docker-registry`, tests/support/registry_server.py) holds one small
image tagged 10,000 times by manifest PUTs (each manifest differs by an annotation, so each tag has its own
digest, as builds do). The database holds the app's deployment history in qa over those tags (the newest
healthy, some failed ones before it). Timed: `requests.rollback(ctx, user, "web", "qa")` as promobot wires
it from a config whose registry is `kind: distribution` — the history query, the gates and ONE
`Registry.exists` (a manifest HEAD) for the chosen target, up to the rollback operation being queued.
The operation is cancelled (untimed) before the next run. For contrast: the history query alone, the HEAD
alone, and listing every tag (what a lookup without history would cost).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import structlog
import world
import yaml
from common import emit, median, ms, note, percentile, scratch, size, timed
from sqlalchemy import insert, update

from promobot import bootstrap, config, ports
from promobot.adapters.registry.distribution import DistributionRegistry
from promobot.adapters.store.sql import SqlStore
from promobot.adapters.store.tables import deployments, operations
from promobot.service import requests
from support import databases, registry_server
from support.running import Setup

OCI_MANIFEST = registry_server.OCI_MANIFEST
PUSHERS = 4
FAILED_BEFORE_CURRENT = 3  # the rollback skips these to reach the healthy one before them


class Quiet:
    """A notifier that tells nobody: the bench times the lookup, not a console."""

    def operation_changed(self, operation: Any) -> None:
        return None

    def deployment_changed(self, deployment: Any) -> None:
        return None


class Counted:
    """The registry, counting `exists` calls: the lookup must verify its target with exactly one HEAD."""

    def __init__(self, registry: ports.Registry) -> None:
        self._registry = registry
        self.calls = 0

    def get(self, image: str, tag: str) -> ports.Image | None:
        return self._registry.get(image, tag)

    def exists(self, image: str, digest: str) -> bool:
        self.calls += 1
        return self._registry.exists(image, digest)


def tag_many(base_url: str, count: int) -> list[tuple[str, str]]:
    """One small image pushed, then `count` manifests PUT over its blobs; [(tag, digest)] oldest first."""
    registry_server.push_image(base_url, "web", "base", {"org.opencontainers.image.title": "web"})
    with httpx.Client(base_url=base_url, timeout=30) as http:
        manifest = json.loads(http.get("/v2/web/manifests/base", headers={"Accept": OCI_MANIFEST}).content)

    def put(numbers: range) -> list[tuple[str, str]]:
        done: list[tuple[str, str]] = []
        with httpx.Client(base_url=base_url, timeout=30) as http:
            for n in numbers:
                tag = f"qa-{world.sha(n)[:7]}-{n}"
                body = {**manifest, "annotations": {"org.opencontainers.image.revision": world.sha(n)}}
                answer = http.put(
                    f"/v2/web/manifests/{tag}", content=json.dumps(body), headers={"Content-Type": OCI_MANIFEST}
                )
                assert answer.status_code == 201, answer.text
                done.append((tag, answer.headers["Docker-Content-Digest"]))
        return done

    with ThreadPoolExecutor(PUSHERS) as pool:
        parts = list(pool.map(put, [range(k, count, PUSHERS) for k in range(PUSHERS)]))
    return sorted((pair for part in parts for pair in part), key=lambda pair: int(pair[0].rsplit("-", 1)[1]))


def seed_history(url: str, tagged: list[tuple[str, str]]) -> None:
    """One deployment of web in qa per tag, oldest first; all healthy but the few just before the newest."""
    store = SqlStore(url)
    store.migrate()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    newest = len(tagged) - 1
    rows = []
    for n, (tag, digest) in enumerate(tagged):
        failed = newest - FAILED_BEFORE_CURRENT <= n < newest
        at = start + timedelta(minutes=n)
        rows.append(
            {
                "app": "web",
                "env": "qa",
                "tag": tag,
                "digest": digest,
                "source_revision": world.sha(n),
                "revision": world.sha(n + 1),
                "state": "failed" if failed else "healthy",
                "deployed_by": "dana",
                "operation_id": None,
                "started_at": at,
                "finished_at": at,
                "url": "",
                "message": "",
            }
        )
    with store.engine.begin() as connection:
        for i in range(0, len(rows), world.CHUNK):
            connection.execute(insert(deployments), rows[i : i + world.CHUNK])
        world.point_at_newest(connection)
    store.dispose()


def application(root: Path, registry_url: str, database_url: str) -> bootstrap.Application:
    """promobot wired from a sandbox config whose registry is the Distribution registry; no background parts."""
    setup = Setup(root / "sandbox", database_url=database_url)
    settings = yaml.safe_load(setup.config.read_text())
    settings["registry"] = {"kind": "distribution", "url": registry_url}
    settings["builder"] = {"kind": "none"}
    setup.config.write_text(yaml.safe_dump(settings, sort_keys=False))
    app = bootstrap.build(config.load(str(setup.config)), background=False)
    app.ctx.notifier = Quiet()
    return app


def main() -> None:
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))  # stdout carries the figures
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    count, runs = size(10_000, 60), size(50, 5)
    binary = registry_server.shutil.which(registry_server.BINARY)
    if binary is None:
        raise SystemExit("docker-registry is not installed (apt-get install docker-registry)")
    with scratch("rollback") as root:
        server = registry_server.RegistryServer(binary, root / "registry").start()
        try:
            began = time.perf_counter()
            tagged = tag_many(server.url, count)
            note("rollback_registry", f"{count} tags of web PUT in {time.perf_counter() - began:.1f} s")
            url = databases.sqlite_url(root / "db")
            seed_history(url, tagged)
            app = application(root, server.url, url)
            ctx = app.ctx
            user = ctx.users["developer"]
            target = tagged[-2 - FAILED_BEFORE_CURRENT]
            store = SqlStore(url)

            heads = Counted(ctx.registry)
            ctx.registry = heads
            took: list[float] = []
            for _ in range(runs + 2):
                heads.calls = 0
                start = time.perf_counter()
                operation = requests.rollback(ctx, user, "web", "qa")
                took.append(time.perf_counter() - start)
                assert operation.pinned_digest == target[1] and heads.calls == 1, (operation, heads.calls)
                with store.engine.begin() as connection:  # untimed: cancel it so the next run may queue
                    connection.execute(
                        update(operations).where(operations.c.id == operation.id).values(state="cancelled")
                    )
            took = took[2:]  # the first two warm the connections
            registry = DistributionRegistry(server.url)
            history_ms, head_ms, listing_ms = [], [], []
            for _ in range(runs):
                with ctx.store.unit_of_work() as uow:
                    history_ms.append(timed(lambda uow=uow: uow.deployments.history("web", "qa", limit=200)))
                head_ms.append(timed(lambda: registry.exists("web", target[1])))
            for _ in range(size(3, 1)):
                listing_ms.append(timed(lambda: registry.tags("web")))
            assert len(registry.tags("web")) == count + 1
            registry.close()
            store.dispose()
        finally:
            server.stop()
    note("rollback_shape", f"web in qa: {count} deployments over {count} tags; {runs} rollbacks, SQLite")
    emit("rollback_lookup_ms", ms(median(took)), "ms")
    emit("rollback_lookup_p99_ms", ms(percentile(took, 99)), "ms")
    emit("rollback_history_query_ms", ms(median(history_ms)), "ms")
    emit("rollback_registry_head_ms", ms(median(head_ms)), "ms")
    emit("rollback_tag_listing_ms", ms(median(listing_ms)), "ms")
    note("rollback_lookup_target", "<= 100 ms (history plus one HEAD)")


if __name__ == "__main__":
    main()
