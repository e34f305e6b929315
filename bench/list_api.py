"""Benchmark 4, list: GET /api/list of a real `promobot serve` with 1,000 apps x 4 environments and
100,000 deployment history rows (seeded in bulk), on SQLite and on PostgreSQL. Reports p50 and p99.
"""

from __future__ import annotations

import time

import httpx
import world
from common import emit, ms, note, percentile, profiled, scratch, size

from support import databases


def measure(kind: str, *, apps: int, history: int, requests: int) -> None:
    with scratch(f"list-{kind}") as root, world.database(kind, root) as url:
        start = time.perf_counter()
        world.seed(url, apps=apps, history=history)
        note(
            f"list_{kind}_seeded",
            f"{history} deployments over {apps} apps x 4 envs in {time.perf_counter() - start:.1f} s",
        )
        setup = world.setup(root, apps=apps, database_url=url)
        setup.start()
        try:
            headers = {"Authorization": f"Bearer {world.token(setup)}"}
            with httpx.Client(base_url=setup.base_url, headers=headers, timeout=30) as client:
                rows = client.get("/api/list").json()
                assert len(rows) == apps * 4, f"expected {apps * 4} rows, got {len(rows)}"
                for _ in range(5):
                    client.get("/api/list").raise_for_status()
                took: list[float] = []
                assert setup.process is not None
                with profiled(setup.process.pid, f"list_{kind}"):
                    for _ in range(requests):
                        begin = time.perf_counter()
                        client.get("/api/list").raise_for_status()
                        took.append(time.perf_counter() - begin)
            emit(f"list_{kind}_p50", ms(percentile(took, 50)), "ms")
            emit(f"list_{kind}_p99", ms(percentile(took, 99)), "ms")
        finally:
            setup.stop()


def main() -> None:
    apps, history, requests = size(1000, 20), size(100_000, 2_000), size(200, 10)
    note("list_shape", f"{apps} apps x 4 envs = {apps * 4} rows per response; {requests} sequential requests")
    for kind in databases.KINDS:
        measure(kind, apps=apps, history=history, requests=requests)
    note("list_target", "p99 <= 30 ms")


if __name__ == "__main__":
    main()
