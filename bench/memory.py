"""Benchmark 8, memory: the resident set of `promobot serve` with 1,000 apps configured.

VmRSS from /proc/<pid>/status of the real server process: once it answers /healthz and its background
parts have started, and again after 20 GET /api/list (4,000 rows each) over a seeded SQLite database.
"""

from __future__ import annotations

import time

import httpx
import world
from common import emit, note, rss_mb, scratch, size

from support import databases


def main() -> None:
    apps = size(1000, 25)
    with scratch("memory") as root, world.database(databases.SQLITE, root) as url:
        world.seed(url, apps=apps, history=size(100_000, 1_000))
        setup = world.setup(root, apps=apps, database_url=url)
        setup.start()
        try:
            assert setup.process is not None
            time.sleep(size(5, 1))  # the runtime's first reconcile passes over every (env, app)
            idle = rss_mb(setup.process.pid)
            headers = {"Authorization": f"Bearer {world.token(setup)}"}
            with httpx.Client(base_url=setup.base_url, headers=headers, timeout=30) as client:
                for _ in range(20):
                    client.get("/api/list").raise_for_status()
            busy = rss_mb(setup.process.pid)
        finally:
            setup.stop()
        note("memory_shape", f"{apps} apps x 4 envs configured; builder off; local runtime polling every 1 s")
        emit("memory_serve_rss_started", idle, "MB")
        emit("memory_serve_rss_after_list", busy, "MB")
        note("memory_target", "<= 150 MB")


if __name__ == "__main__":
    main()
