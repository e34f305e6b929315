"""Benchmark 6, webhook ingest on PostgreSQL: deployment results (POST /webhooks/engine) applied per second.

A real `promobot serve` on PostgreSQL with 1,000 apps x 4 environments, each with one deployment in
progress. Clients on loopback post one `healthy` result per (app, env), each its own request with the
webhook token and its own delivery id, from several keep-alive connections at once; the rate is results
over wall time until the last answer. Afterwards the database is counted: every deployment must be healthy
and every delivery id recorded, so none was lost. This runs twice on the same seeded database (the
deployments set back to `progressing` in between): one `serve` process, then (not under BENCH_SMOKE)
`serve --workers 2` (the `_workers_2` figures). The CPU seconds the server processes spent per result are
measured too: on a machine shared with other work they are the steadier figure. Last, the same results are handed to the
service in-process (no HTTP) from as many threads.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import world
from common import SMOKE, emit, note, profiled, scratch, size
from sqlalchemy import Engine, func, select, update

from promobot import bootstrap, config, logs
from promobot.adapters.store.sql import SqlStore
from promobot.adapters.store.tables import current_deployments, deliveries, deployments
from promobot.domain.deployments import Health
from promobot.domain.events import DeploymentReported
from promobot.service import delivering
from support import databases, running

CLIENTS = 8
WORKERS = 2
TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    apps = size(1000, 25)
    events = apps * len(world.ENVS)
    with scratch("ingest") as root, world.database(databases.POSTGRESQL, root) as url:
        world.seed(url, apps=apps, history=events, active=0, last_state="progressing")
        setup = world.setup(root, apps=apps, database_url=url)
        bodies = [
            {"env": env, "app": app, "digest": world.digest(n), "state": "healthy", "url": f"http://127.0.0.1:9/{app}"}
            for n, (app, env) in enumerate((a, e) for a in world.app_names(apps) for e in world.ENVS)
        ]
        # seed() spread rows over pairs in this same order, so body n matches deployment n's digest.
        store = SqlStore(url)
        note("webhook_ingest_shape", f"{events} results from {CLIENTS} loopback connections, PostgreSQL")
        passes = [("", 1)] if SMOKE else [("", 1), (f"_workers_{WORKERS}", WORKERS)]
        if SMOKE:  # CI's smoke run has minutes for every benchmark: starting N more workers is left out
            note(f"webhook_ingest_rate_workers_{WORKERS}", "not run under BENCH_SMOKE")
        for label, workers in passes:
            tag = label.lstrip("_") or "one-process"
            rate, server_cpu, client_cpu, refused = _over_http(setup, bodies, workers, tag)
            _emit_counts(store.engine, label, events, refused, f"{tag}-")
            emit(f"webhook_ingest_rate{label}", rate, "events/s")
            emit(f"webhook_ingest_server_cpu{label}", server_cpu * 1000 / events, "ms/event")
            emit(f"webhook_ingest_client_cpu{label}", client_cpu * 1000 / events, "ms/event")
            note(f"webhook_ingest_load{label}", _load())
            _reset(store.engine)
        rate, cpu = _in_process(setup.config, bodies)
        _emit_counts(store.engine, "_in_process", events, 0, "in-process-")
        emit("webhook_ingest_in_process_rate", rate, "events/s")
        emit("webhook_ingest_in_process_cpu", cpu * 1000 / events, "ms/event")
        note("webhook_ingest_in_process_load", _load())
        store.dispose()
        note("webhook_ingest_target", ">= 300 events/s, none lost")


def _over_http(
    setup: running.Setup, bodies: list[dict[str, str]], workers: int, name: str
) -> tuple[float, float, float, int]:
    """(results/s, server CPU seconds, client CPU seconds, refused) for one pass of `bodies` over HTTP."""
    _start(setup, workers)
    try:
        token = (setup.root / "tokens" / "webhook.token").read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}
        chunks = [list(enumerate(bodies))[i::CLIENTS] for i in range(CLIENTS)]

        def post(chunk: list[tuple[int, dict[str, str]]]) -> int:
            # The standard library's client on one keep-alive connection: the load generator shares the
            # server's two cores, and httpx cost about three times its CPU per request.
            refused = 0
            connection = http.client.HTTPConnection("127.0.0.1", setup.port, timeout=60)
            try:
                for n, body in chunk:
                    connection.request(
                        "POST",
                        "/webhooks/engine",
                        json.dumps(body).encode(),
                        {**headers, "Content-Type": "application/json", "X-Promobot-Delivery": f"{name}-{n}"},
                    )
                    answer = connection.getresponse()
                    answer.read()
                    refused += answer.status != 202
            finally:
                connection.close()
            return refused

        assert setup.process is not None
        with profiled(setup.process.pid, f"webhook_ingest_{name}"):
            server_before, client_before = _cpu(setup.process.pid), time.process_time()
            start = time.perf_counter()
            with ThreadPoolExecutor(CLIENTS) as pool:
                refused = sum(pool.map(post, chunks))
            took = time.perf_counter() - start
            server, client = _cpu(setup.process.pid) - server_before, time.process_time() - client_before
    finally:
        setup.stop()
    return len(bodies) / took, server, client, refused


def _start(setup: running.Setup, workers: int) -> None:
    """`setup.start()`, with `--workers` when more than one."""
    if workers == 1:
        setup.start()
        return
    log = setup.root / f"serve-{len(setup.logs) + 1}.log"
    setup.logs.append(log)
    with open(log, "wb") as out:
        setup.process = subprocess.Popen(
            [sys.executable, "-m", "promobot", "serve", "--config", str(setup.config), "--workers", str(workers)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
    setup.start_timeout = 90.0  # each worker process imports and builds the application itself
    running.until(setup._healthy, setup.start_timeout, "promobot serve --workers to answer /healthz")
    pid = setup.process.pid
    spawned = running.until(lambda: len(_workers(pid)) == workers and _workers(pid), 60, "every worker")
    for serving in spawned:  # each one alone, the others stopped, must answer: every worker is up
        others = [each for each in spawned if each != serving]
        for each in others:
            os.kill(each, signal.SIGSTOP)
        try:
            running.until(setup._healthy, setup.start_timeout, f"worker {serving} to answer /healthz")
        finally:
            for each in others:
                os.kill(each, signal.SIGCONT)


def _in_process(config_path: Path, bodies: list[dict[str, str]]) -> tuple[float, float]:
    """(results/s, CPU seconds): `delivering.deliver` from CLIENTS threads, as the intake calls it, no HTTP."""
    logs.configure("WARNING")  # on stderr: stdout carries the figures
    application = bootstrap.build(config.load(str(config_path)), background=False)
    ctx = application.ctx
    reports = [
        DeploymentReported(b["env"], b["app"], b["digest"], Health(b["state"]), b["url"], "") for b in bodies
    ]
    chunks = [list(enumerate(reports))[i::CLIENTS] for i in range(CLIENTS)]

    def deliver(chunk: list[tuple[int, DeploymentReported]]) -> None:
        for n, report in chunk:
            delivering.deliver(ctx, "engine", f"in-process-{n}", [report])

    cpu_before, start = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(deliver, chunks))
    took, cpu = time.perf_counter() - start, time.process_time() - cpu_before
    getattr(ctx.store, "dispose", lambda: None)()
    return len(bodies) / took, cpu


def _emit_counts(engine: Engine, label: str, events: int, refused: int, prefix: str) -> None:
    """Count what the pass left in the database; exit non-zero if any result was lost."""
    with engine.connect() as connection:
        healthy = connection.execute(
            select(func.count()).select_from(deployments).where(deployments.c.state == "healthy")
        ).scalar_one()
        recorded = connection.execute(
            select(func.count()).select_from(deliveries).where(deliveries.c.delivery_id.startswith(prefix))
        ).scalar_one()
    emit(f"webhook_ingest_refused{label}", refused, "requests")
    emit(f"webhook_ingest_lost{label}", events - healthy, "events")
    emit(f"webhook_ingest_deliveries_recorded{label}", recorded, "ids")
    if healthy != events or recorded != events or refused:
        raise SystemExit(
            f"lost events{label}: {events - healthy} not applied, {events - recorded} ids missing, {refused} refused"
        )


def _reset(engine: Engine) -> None:
    """Every pair's newest deployment in progress again, for the next pass."""
    newest = select(current_deployments.c.deployment_id)
    with engine.begin() as connection:
        connection.execute(
            update(deployments)
            .where(deployments.c.id.in_(newest))
            .values(state="progressing", finished_at=None)
        )


def _tree(pid: int) -> list[int]:
    """`pid` and every process below it."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def _workers(pid: int) -> list[int]:
    """The worker processes below `pid` (multiprocessing's spawned children, not its resource tracker)."""
    return [each for each in _tree(pid)[1:] if b"multiprocessing-fork" in _cmdline(each)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) that `pid` and the processes below it have used so far."""
    total = 0
    for each in _tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"1-minute load average {one:.1f} (5-minute {five:.1f}) on {os.cpu_count()} CPUs"


if __name__ == "__main__":
    main()
