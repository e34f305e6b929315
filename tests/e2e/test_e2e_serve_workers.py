"""`promobot serve --workers N`: N worker processes on one port, each a replica of the application.

On PostgreSQL both workers answer (each one alone, while the other is stopped), exactly one holds the
duties lease, and deployment results posted concurrently to both, each several times with the same
delivery id, are applied once each and none is lost. On SQLite `--workers` is refused in one line.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from promobot.adapters.store.sql import SqlStore
from promobot.domain.deployments import Deployment, Health
from support import databases
from support.replicas import HOLDS
from support.running import Setup, until

pytestmark = pytest.mark.slow
WORKERS = 2


@pytest.fixture
def postgresql_url(tmp_path: Path) -> Iterator[str]:
    with databases.fresh(databases.POSTGRESQL, tmp_path / "db") as url:
        yield url


def test_several_workers_on_sqlite_are_refused_in_one_line(tmp_path: Path) -> None:
    setup = Setup(tmp_path / "sandbox")
    done = subprocess.run(
        [sys.executable, "-m", "promobot", "serve", "--config", str(setup.config), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "promobot: error: --workers 2 needs PostgreSQL: SQLite is served by one process; "
        "drop --workers, or set `database:` to a postgresql+psycopg:// URL"
    ]
    with pytest.raises(httpx.HTTPError):
        httpx.get(setup.base_url + "/healthz", timeout=1)


def test_two_workers_both_answer_hold_the_duties_once_and_apply_each_result_once(
    postgresql_url: str, tmp_path: Path
) -> None:
    setup = Setup(tmp_path / "sandbox", database_url=postgresql_url)
    log = tmp_path / "serve.log"
    with _serving(setup, log) as workers:
        assert len(workers) == WORKERS
        for answering in workers:  # each worker alone answers while every other one is stopped
            others = [pid for pid in workers if pid != answering]
            with _stopped(others):
                assert httpx.get(setup.base_url + "/healthz", timeout=20).status_code == 200

        reports = _in_progress(postgresql_url)
        token = (setup.root / "tokens" / "webhook.token").read_text().strip()
        copies = [(f"w-{n}", body) for n, body in enumerate(reports) for _ in range(4)]
        random.Random(3).shuffle(copies)

        def post(chunk: list[tuple[str, dict[str, str]]]) -> list[tuple[str, int, bool]]:
            answers = []
            for delivery, body in chunk:  # a connection per post, so the kernel spreads them over the workers
                answer = httpx.post(
                    setup.base_url + "/webhooks/engine",
                    json=body,
                    headers={"Authorization": f"Bearer {token}", "X-Promobot-Delivery": delivery},
                    timeout=30,
                )
                answers.append((delivery, answer.status_code, answer.json().get("duplicate", False)))
            return answers

        with ThreadPoolExecutor(6) as pool:
            answers = [a for chunk in pool.map(post, [copies[i::6] for i in range(6)]) for a in chunk]

        assert {status for _, status, _ in answers} == {202}
        taken = Counter(delivery for delivery, _, duplicate in answers if not duplicate)
        assert taken == Counter({f"w-{n}": 1 for n in range(len(reports))})
        store = SqlStore(postgresql_url)
        try:
            with store.unit_of_work() as uow:
                current = [uow.deployments.current("web", env) for env in ("qa", "staging", "prod")]
                entries = uow.audit.recent(actor="engine", limit=1000)
        finally:
            store.dispose()
        assert [(d.env, d.state) for d in current if d] == [(e, Health.HEALTHY) for e in ("qa", "staging", "prod")]
        ours = [e for e in entries if e.subject.startswith("engine delivery w-")]
        accepted = Counter(e.subject for e in ours if e.outcome == "accepted")
        assert accepted == Counter({f"engine delivery w-{n}": 1 for n in range(len(reports))})
    assert log.read_text(errors="replace").count(HOLDS) == 1, log.read_text(errors="replace")[-4000:]


def _in_progress(url: str) -> list[dict[str, str]]:
    """A deployment of web in progress in qa, staging and prod (not development: the sandbox deploys
    there itself); the healthy results they wait for, as the engine would post them."""
    store = SqlStore(url)
    bodies = []
    try:
        with store.unit_of_work() as uow:
            for n, env in enumerate(("qa", "staging", "prod")):
                digest = f"sha256:{n + 1:064x}"
                uow.deployments.add(Deployment("web", env, f"{env}-{n:07x}", digest, f"{n:040x}", f"{n + 1:040x}"))
                bodies.append({"env": env, "app": "web", "digest": digest, "state": "healthy"})
            uow.commit()
    finally:
        store.dispose()
    return bodies


@contextmanager
def _serving(setup: Setup, log: Path) -> Iterator[list[int]]:
    """`promobot serve --workers 2` running; yields the worker processes' pids once every one is up."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", PROMOBOT_DB_POOL_SIZE="8")
    env.pop("PROMOBOT_CRASH_AT", None)
    argv = [sys.executable, "-m", "promobot", "serve", "--config", str(setup.config), "--workers", str(WORKERS)]
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    workers: list[int] = []
    try:
        until(lambda: httpx.get(setup.base_url + "/healthz", timeout=1).status_code == 200, 90, "serve to answer")
        workers = until(lambda: len(_workers(process.pid)) == WORKERS and _workers(process.pid), 30, "both workers")
        until(lambda: HOLDS in log.read_text(errors="replace"), 30, "a worker to take the duties lease")
        time.sleep(4)  # two rounds of the lease: a second holder would have said so by now
        yield workers
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(45)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        for pid in workers:
            _kill(pid)


@contextmanager
def _stopped(pids: list[int]) -> Iterator[None]:
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def _workers(parent: int) -> list[int]:
    """The processes `serve --workers` spawned to serve (multiprocessing's children, not its resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and b"multiprocessing-fork" in cmdline:
            found.append(int(stat.parent.name))
    return sorted(found)


def _kill(pid: int) -> None:
    """SIGKILL a worker left behind, if it is still one (its pid not yet reused)."""
    try:
        if b"multiprocessing-fork" in Path(f"/proc/{pid}/cmdline").read_bytes():
            os.kill(pid, signal.SIGKILL)
    except (OSError, ProcessLookupError):
        pass
