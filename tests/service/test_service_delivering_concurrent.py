"""Deployment reports delivered concurrently, each several times with the same delivery id, on the real store:
every report is applied exactly once and none is lost, whichever copy wins."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from promobot.domain.deployments import Deployment, Health
from promobot.domain.events import DeploymentReported
from promobot.service import auditing, delivering, queries
from promobot.service.context import Context
from support import databases
from support.fakes import World, make_context

APPS = tuple(f"svc{n}" for n in range(6))
COPIES = 3  # each delivery arrives this many times, from different threads at once
THREADS = 8


@pytest.fixture(params=databases.KINDS)
def wired(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Context, World]]:
    with databases.fresh(request.param, tmp_path / "db") as url:
        _, world = make_context(tmp_path / "world", apps=APPS)
        world.url = url
        try:
            yield world.context(restart=True), world
        finally:
            world.close()


def _in_progress(ctx: Context) -> list[DeploymentReported]:
    """One deployment in progress per (app, env); the healthy report each one is waiting for."""
    reports = []
    with ctx.store.unit_of_work() as uow:
        for n, (app, env) in enumerate((a, e.name) for a in APPS for e in ctx.pipeline.environments):
            digest = f"sha256:{n:064x}"
            uow.deployments.add(Deployment(app, env, f"{env}-{n:07x}", digest, f"{n:040x}", f"{n + 1:040x}"))
            reports.append(DeploymentReported(env, app, digest, Health.HEALTHY, f"http://127.0.0.1:9/{app}"))
        uow.commit()
    return reports


def test_concurrent_copies_of_each_delivery_apply_it_once_and_lose_none(wired: tuple[Context, World]) -> None:
    ctx, world = wired
    reports = _in_progress(ctx)
    copies = [(f"d-{n}", report) for n, report in enumerate(reports) for _ in range(COPIES)]
    random.Random(7).shuffle(copies)
    start = threading.Barrier(THREADS)
    chunks = [copies[i::THREADS] for i in range(THREADS)]

    def deliver(chunk: list[tuple[str, DeploymentReported]]) -> list[tuple[str, bool]]:
        start.wait()
        return [(delivery, delivering.deliver(ctx, "engine", delivery, [report])) for delivery, report in chunk]

    with ThreadPoolExecutor(THREADS) as pool:
        answers = [answer for chunk in pool.map(deliver, chunks) for answer in chunk]

    taken = Counter(delivery for delivery, first in answers if first)
    assert taken == Counter({f"d-{n}": 1 for n in range(len(reports))})  # one copy each was taken, the rest ignored
    assert {(r.app, r.env, r.state) for r in queries.board(ctx)} == {(r.app, r.env, "healthy") for r in reports}
    assert len(world.notifier.deployments) == len(reports)  # each change told once
    entries, more = auditing.entries(ctx, actor="engine", limit=len(copies))
    assert not more
    outcomes = Counter((entry.subject, entry.outcome) for entry in entries)
    expected = {f"engine delivery d-{n}": (1, COPIES - 1) for n in range(len(reports))}
    assert {s: (outcomes[s, "accepted"], outcomes[s, "duplicate"]) for s in expected} == expected
