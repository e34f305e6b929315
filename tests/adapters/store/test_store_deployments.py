"""The deployments repository: what each environment runs now, its history, and the last healthy one."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import insert, select
from store_samples import DIGEST_B, ManualClock, deployment, operation

from promobot.adapters.store import tables
from promobot.adapters.store.sql import SqlStore
from promobot.domain.deployments import Deployment, Health


def _add(store: SqlStore, *deployments: Deployment) -> list[Deployment]:
    with store.unit_of_work() as uow:
        added = [uow.deployments.add(d) for d in deployments]
        uow.commit()
    return added


def test_add_sets_id_and_started_at_and_get_returns_it(store: SqlStore, clock: ManualClock) -> None:
    with store.unit_of_work() as uow:
        op = uow.operations.add(operation())
        uow.commit()
    [added] = _add(store, deployment(operation_id=op.id, url="http://127.0.0.1:8001", message="rolling"))
    assert added.id is not None
    assert added.started_at == clock.at
    with store.unit_of_work() as uow:
        assert uow.deployments.get(added.id) == added
        assert uow.deployments.get(added.id + 1000) is None


def test_save_persists_the_outcome(store: SqlStore) -> None:
    [added] = _add(store, deployment(state=Health.PROGRESSING))
    finished = replace(
        added, state=Health.DEGRADED, finished_at=datetime(2024, 5, 2, tzinfo=UTC), message="crash loop"
    )
    with store.unit_of_work() as uow:
        assert uow.deployments.save(finished) == finished
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.deployments.current("web", "qa") == finished


def test_current_is_the_newest_deployment_of_the_pair(store: SqlStore) -> None:
    [_, newest, _] = _add(store, deployment(), deployment(digest=DIGEST_B), deployment(env="prod"))
    with store.unit_of_work() as uow:
        assert uow.deployments.current("web", "qa") == newest
        assert uow.deployments.current("web", "staging") is None


def test_current_all_is_the_newest_of_every_pair(store: SqlStore) -> None:
    added = _add(
        store,
        deployment("web", "qa"),
        deployment("api", "qa"),
        deployment("web", "qa", state=Health.FAILED),
        deployment("web", "prod"),
        deployment("api", "qa", state=Health.PROGRESSING),
    )
    with store.unit_of_work() as uow:
        assert uow.deployments.current_all() == [added[4], added[3], added[2]]


def test_current_all_stays_fast_with_a_hundred_thousand_deployments(store: SqlStore) -> None:
    pairs = [(f"app{a}", env) for a in range(25) for env in ("dev", "qa", "staging", "prod")]
    _add(store, *(deployment(app, env, tag="old-0000000") for app, env in pairs))
    columns = [c for c in tables.deployments.c if c.name != "id"]
    with store.engine.begin() as connection:
        for _ in range(10):  # 100 rows doubled ten times: 102,400
            copy = select(*columns).select_from(tables.deployments)
            connection.execute(insert(tables.deployments).from_select([c.name for c in columns], copy))
    newest = _add(store, *(deployment(app, env, tag="new-1111111") for app, env in pairs))

    with store.unit_of_work() as uow:
        began = time.perf_counter()
        current = uow.deployments.current_all()
        took = time.perf_counter() - began

    assert sorted(d.id or 0 for d in current) == sorted(d.id or 0 for d in newest)
    assert took < 0.5, f"current_all took {took:.2f}s over 100k rows"


def test_history_is_newest_first_and_limited(store: SqlStore) -> None:
    added = _add(store, deployment(), deployment(env="prod"), deployment(digest=DIGEST_B), deployment())
    with store.unit_of_work() as uow:
        assert uow.deployments.history("web", "qa") == [added[3], added[2], added[0]]
        assert uow.deployments.history("web", "qa", limit=2) == [added[3], added[2]]
        assert uow.deployments.history("api", "qa") == []


def test_last_healthy_skips_failed_and_newer_deployments(store: SqlStore) -> None:
    added = _add(
        store,
        deployment(tag="qa-1111111"),
        deployment(tag="qa-2222222"),
        deployment(tag="qa-3333333", state=Health.FAILED),
        deployment(tag="qa-4444444", env="prod"),
        deployment(tag="qa-5555555", state=Health.DEGRADED),
    )
    with store.unit_of_work() as uow:
        assert uow.deployments.last_healthy("web", "qa") == added[1]
        assert uow.deployments.last_healthy("web", "qa", before_id=added[1].id) == added[0]
        assert uow.deployments.last_healthy("web", "qa", before_id=added[0].id) is None
        assert uow.deployments.last_healthy("api", "qa") is None
