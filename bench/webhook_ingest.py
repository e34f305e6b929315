"""Benchmark 6, webhook ingest on PostgreSQL: deployment results (POST /webhooks/engine) applied per second.

A real `promobot serve` on PostgreSQL with 1,000 apps x 4 environments, each with one deployment in
progress. Clients on loopback post one `healthy` result per (app, env), each with its own delivery id, from
several connections at once; the rate is results over wall time until the last answer. Afterwards the
database is counted: every deployment must be healthy and every delivery id recorded, so none was lost.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import world
from common import emit, note, profiled, scratch, size
from sqlalchemy import func, select

from promobot.adapters.store.sql import SqlStore
from promobot.adapters.store.tables import deliveries, deployments
from support import databases

CLIENTS = 8


def main() -> None:
    apps = size(1000, 25)
    events = apps * len(world.ENVS)
    with scratch("ingest") as root, world.database(databases.POSTGRESQL, root) as url:
        world.seed(url, apps=apps, history=events, active=0, last_state="progressing")
        setup = world.setup(root, apps=apps, database_url=url)
        setup.start()
        try:
            token = (setup.root / "tokens" / "webhook.token").read_text().strip()
            headers = {"Authorization": f"Bearer {token}"}
            bodies = [
                {
                    "env": env,
                    "app": app,
                    "digest": world.digest(n),
                    "state": "healthy",
                    "url": f"http://127.0.0.1:9/{app}",
                }
                for n, (app, env) in enumerate((a, e) for a in world.app_names(apps) for e in world.ENVS)
            ]
            # seed() spread rows over pairs in this same order, so body n matches deployment n's digest.
            chunks = [bodies[i::CLIENTS] for i in range(CLIENTS)]

            def post(chunk: list[dict[str, str]], client_no: int) -> int:
                refused = 0
                with httpx.Client(base_url=setup.base_url, headers=headers, timeout=60) as client:
                    for k, body in enumerate(chunk):
                        answer = client.post(
                            "/webhooks/engine", json=body, headers={"X-Promobot-Delivery": f"bench-{client_no}-{k}"}
                        )
                        refused += answer.status_code != 202
                return refused

            assert setup.process is not None
            with profiled(setup.process.pid, "webhook_ingest"):
                start = time.perf_counter()
                with ThreadPoolExecutor(CLIENTS) as pool:
                    refused = sum(pool.map(post, chunks, range(CLIENTS)))
                took = time.perf_counter() - start
        finally:
            setup.stop()
        store = SqlStore(url)
        with store.engine.connect() as connection:
            healthy = connection.execute(
                select(func.count()).select_from(deployments).where(deployments.c.state == "healthy")
            ).scalar_one()
            recorded = connection.execute(select(func.count()).select_from(deliveries)).scalar_one()
        store.dispose()
        note("webhook_ingest_shape", f"{events} results from {CLIENTS} loopback connections, PostgreSQL")
        emit("webhook_ingest_rate", events / took, "events/s")
        emit("webhook_ingest_refused", refused, "requests")
        emit("webhook_ingest_lost", events - healthy, "events")
        emit("webhook_ingest_deliveries_recorded", recorded, "ids")
        note("webhook_ingest_target", ">= 300 events/s, none lost")
        if healthy != events or refused:
            raise SystemExit(f"lost events: {events - healthy} not applied, {refused} refused")


if __name__ == "__main__":
    main()
