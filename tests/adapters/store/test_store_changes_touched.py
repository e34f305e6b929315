"""`SqlChangeLog.current_since`: every pair logged since an id with its current deployment and whether an
operation of it changed, in one read however many; None once pruning may have dropped some of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import delete
from store_samples import ManualClock, deployment, operation

from promobot.adapters.store.change_log import SqlChangeLog
from promobot.adapters.store.sql import SqlStore
from promobot.adapters.store.tables import changes
from promobot.domain.deployments import Health
from promobot.ports import PairSince


def _tags(found: dict[tuple[str, str], PairSince] | None) -> dict[tuple[str, str], str | None]:
    assert found is not None
    return {pair: s.deployment.tag if s.deployment is not None else None for pair, s in found.items()}


def test_each_pair_logged_since_comes_once_with_its_newest_deployment_or_none(store: SqlStore) -> None:
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
    assert _tags(found) == {("web", "qa"): "qa-new", ("web", "prod"): None}  # api/qa: before `since`
    assert found is not None
    current = found[("web", "qa")].deployment
    assert current is not None and (current.state, current.id) == (Health.HEALTHY, newer.id)
    assert (found[("web", "qa")].operations_changed, found[("web", "prod")].operations_changed) == (False, True)
    assert current.started_at is not None and current.started_at.tzinfo is not None
    assert _tags(log.current_since(0)) == {("api", "qa"): "qa-api", ("web", "qa"): "qa-new", ("web", "prod"): None}
    assert log.current_since(log.version(0)[0]) == {}


def test_thousands_of_pairs_come_in_one_answer(store: SqlStore) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        for n in range(1200):
            uow.deployments.add(deployment(app=f"app{n}", env="qa", tag=f"qa-{n}"))
        uow.commit()
    assert _tags(log.current_since(0)) == {(f"app{n}", "qa"): f"qa-{n}" for n in range(1200)}


def test_a_log_pruned_past_the_id_answers_none(store: SqlStore, clock: ManualClock) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        for app in ("a", "b", "c", "d"):
            uow.deployments.add(deployment(app=app))
        uow.commit()
    first = log.oldest()
    assert first is not None and set(_tags(log.current_since(first))) == {("b", "qa"), ("c", "qa"), ("d", "qa")}
    log.prune(before=clock.at + timedelta(hours=1), keep=2)  # the first two changes go
    assert log.current_since(first) is None  # the second change, above `first`, is gone
    assert set(_tags(log.current_since(first + 1))) == {("c", "qa"), ("d", "qa")}  # all above the second is kept
    assert log.current_since(0) is None  # a board read when the log was empty: the first changes are gone too


def test_an_emptied_log_answers_none_for_a_board_read_before(store: SqlStore) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        uow.deployments.add(deployment())
        uow.commit()
    with store.engine.begin() as connection:  # by hand, as docs/operations.md allows
        connection.execute(delete(changes))
    assert log.oldest() is None
    assert log.current_since(1) is None and log.current_since(0) == {}
