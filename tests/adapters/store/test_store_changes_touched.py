"""`SqlChangeLog.touched_since`: every pair logged since an id in one read, however many; None once
pruning may have dropped some of them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from store_samples import ManualClock, deployment, operation

from promobot.adapters.store.change_log import SqlChangeLog
from promobot.adapters.store.sql import SqlStore
from promobot.adapters.store.tables import changes


def test_each_pair_logged_since_comes_once_whatever_changed(store: SqlStore) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        uow.deployments.add(deployment(app="api", env="qa"))
        uow.commit()
    since = log.version(0)[0]
    with store.unit_of_work() as uow:
        for n in range(3):
            uow.deployments.add(deployment(app="web", env="qa", tag=f"qa-{n}"))
        uow.operations.add(operation(app="web", env="prod"))
        uow.commit()
    assert log.touched_since(since) == {("web", "qa"), ("web", "prod")}  # api/qa: before `since`
    assert log.touched_since(0) == {("api", "qa"), ("web", "qa"), ("web", "prod")}
    assert log.touched_since(log.version(0)[0]) == set()


def test_thousands_of_pairs_come_in_one_answer(store: SqlStore) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        for n in range(1200):
            uow.deployments.add(deployment(app=f"app{n}", env="qa"))
        uow.commit()
    assert log.touched_since(0) == {(f"app{n}", "qa") for n in range(1200)}


def test_a_log_pruned_past_the_id_answers_none(store: SqlStore, clock: ManualClock) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        for app in ("a", "b", "c", "d"):
            uow.deployments.add(deployment(app=app))
        uow.commit()
    first = log.oldest()
    assert first is not None and log.touched_since(first) == {("b", "qa"), ("c", "qa"), ("d", "qa")}
    log.prune(before=clock.at + timedelta(hours=1), keep=2)  # the first two changes go
    assert log.touched_since(first) is None  # the second change, above `first`, is gone
    assert log.touched_since(first + 1) == {("c", "qa"), ("d", "qa")}  # everything above the second is kept


def test_an_emptied_log_answers_none_for_a_board_read_before(store: SqlStore) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        uow.deployments.add(deployment())
        uow.commit()
    with store.engine.begin() as connection:  # by hand, as docs/operations.md allows
        connection.execute(delete(changes))
    assert log.oldest() is None
    assert log.touched_since(1) is None and log.touched_since(0) == set()
