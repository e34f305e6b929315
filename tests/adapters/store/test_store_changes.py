"""The change log (migration 0006): a row for every change the board shows, in the change's own
transaction; read in id order with each change's value as it is now; pruned to a window."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import inspect
from store_samples import ManualClock, deployment, operation

from promobot.adapters.store import changes as writing
from promobot.adapters.store import migrating
from promobot.adapters.store.change_log import SqlChangeLog
from promobot.adapters.store.sql import SqlStore
from promobot.domain.deployments import Health
from promobot.domain.operations import State


def test_each_board_change_is_logged_in_id_order_with_its_value_as_it_is_now(store: SqlStore) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        op = uow.operations.add(operation(state=State.AWAITING_APPROVAL))
        added = uow.deployments.add(deployment(state=Health.PROGRESSING))
        uow.commit()
    assert op.id is not None
    with store.unit_of_work() as uow:
        uow.approvals.add(op.id, "rita")
        uow.deployments.save(replace(added, state=Health.HEALTHY))
        uow.commit()
    logged = log.after(0, limit=10)
    assert [(c.kind, c.app, c.env) for c in logged] == [
        ("operation", "web", "qa"),
        ("deployment", "web", "qa"),
        ("operation", "web", "qa"),
        ("deployment", "web", "qa"),
    ]
    assert [c.id for c in logged] == sorted(c.id for c in logged)
    assert logged[0].value == logged[2].value and getattr(logged[0].value, "approvers", None) == ["rita"]
    assert getattr(logged[1].value, "state", None) == Health.HEALTHY
    assert log.version(0) == (logged[-1].id, 4)
    assert log.version(logged[1].id) == (logged[-1].id, 2)
    assert set(log.current_since(logged[1].id) or {}) == {("web", "qa")}


def test_a_change_rolled_back_leaves_no_row(store: SqlStore) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        uow.deployments.add(deployment())  # never committed
    assert log.after(0, limit=10) == []
    assert log.version(0) == (0, 0) and log.oldest() is None


def test_pruning_drops_old_rows_but_keeps_the_newest(store: SqlStore, clock: ManualClock) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        for app in ("a", "b", "c", "d"):
            uow.deployments.add(deployment(app=app))
        uow.commit()
    ids = [c.id for c in log.after(0, limit=10)]
    assert log.prune(before=clock.at + timedelta(hours=1), keep=2) == 2
    assert [c.id for c in log.after(0, limit=10)] == ids[2:]
    assert log.oldest() == ids[2]
    assert log.prune(before=clock.at - timedelta(hours=1), keep=0) == 0  # nothing that old


def test_writers_prune_as_they_go(store: SqlStore, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        for n in range(writing.PRUNE_EVERY - 1):
            uow.deployments.add(deployment(app=f"app{n}"))
        uow.commit()
    clock.at += timedelta(seconds=writing.KEEP_SECONDS + 60)
    monkeypatch.setattr(writing, "KEEP_ROWS", 10)
    with store.unit_of_work() as uow:
        uow.deployments.add(deployment(app="last"))  # the PRUNE_EVERY-th change
        uow.commit()
    remaining = log.after(0, limit=writing.PRUNE_EVERY)
    assert len(remaining) == 10 and remaining[-1].app == "last"


def test_the_migration_goes_down_and_up_again(store: SqlStore) -> None:
    with store.engine.begin() as connection:
        cfg = migrating.config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0005")
    assert "changes" not in inspect(store.engine).get_table_names()
    store.migrate()
    assert "changes" in inspect(store.engine).get_table_names()
    with store.unit_of_work() as uow:
        uow.deployments.add(deployment())
        uow.commit()
    assert len(SqlChangeLog(store.engine).after(0, limit=10)) == 1
