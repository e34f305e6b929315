"""`SqlChangeLog.current_since`: the pairs logged since an id, each with its current deployment, in one
read whatever their number; None once pruning may have dropped some of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from store_samples import ManualClock, deployment, operation

from promobot.adapters.store import change_log
from promobot.adapters.store.change_log import SqlChangeLog
from promobot.adapters.store.sql import SqlStore
from promobot.domain.deployments import Health


def test_each_pair_logged_since_comes_with_its_newest_deployment_or_none(store: SqlStore) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        old = uow.deployments.add(deployment(app="web", env="qa", tag="qa-old"))
        uow.deployments.add(deployment(app="api", env="qa", tag="qa-api"))
        uow.commit()
    since = log.version(0)[0]
    with store.unit_of_work() as uow:
        newer = uow.deployments.add(deployment(app="web", env="qa", tag="qa-new", state=Health.PROGRESSING))
        uow.deployments.save(replace(old, state=Health.FAILED))  # an older deployment of the pair changed
        uow.operations.add(operation(app="web", env="prod"))  # a pair that never ran anything
        uow.commit()
    with store.unit_of_work() as uow:
        uow.deployments.save(replace(newer, state=Health.HEALTHY))
        uow.commit()
    found = log.current_since(since)
    assert found is not None and set(found) == {("web", "qa"), ("web", "prod")}  # api/qa: before `since`
    current = found[("web", "qa")]
    assert current is not None and (current.tag, current.state, current.id) == ("qa-new", Health.HEALTHY, newer.id)
    assert found[("web", "prod")] is None
    assert log.current_since(log.version(0)[0]) == {}


def test_more_pairs_than_one_in_clause_holds_come_in_one_answer(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(change_log, "MANY_AT_ONCE", 3)
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        for n in range(10):
            uow.deployments.add(deployment(app=f"app{n}", env="qa", tag=f"qa-{n}"))
        uow.commit()
    found = log.current_since(0)
    assert found is not None
    assert {pair: d.tag if d else None for pair, d in found.items()} == {
        (f"app{n}", "qa"): f"qa-{n}" for n in range(10)
    }


def test_a_log_pruned_past_the_id_answers_none(store: SqlStore, clock: ManualClock) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        for app in ("a", "b", "c", "d"):
            uow.deployments.add(deployment(app=app))
        uow.commit()
    first = log.oldest()
    assert first is not None and log.current_since(first) is not None
    log.prune(before=clock.at + timedelta(hours=1), keep=2)  # the first two changes go
    assert log.current_since(first) is None  # the second change, above `first`, is gone
    assert log.current_since(first + 1) is not None  # everything above the second is still there
