"""Locks and the audit log in the database: one lock per environment, an audit log nobody can rewrite."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from store_samples import ManualClock, operation

from promobot.adapters.store import migrating
from promobot.adapters.store.sql import SqlStore
from promobot.domain.audit import Entry
from promobot.domain.locks import Lock
from promobot.domain.operations import Kind, State


def test_an_environment_is_locked_once_and_unlocked_returning_its_lock(store: SqlStore, clock: ManualClock) -> None:
    first = Lock("qa", "alice", "release 4.2", clock.now())
    with store.unit_of_work() as uow:
        assert uow.locks.add(first) is True
        assert uow.locks.add(Lock("qa", "bob", "mine", clock.now())) is False
        uow.locks.add(Lock("prod", "alice", "", clock.now()))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.locks.get("qa") == first
        assert [lock.env for lock in uow.locks.all()] == ["prod", "qa"]
        assert uow.locks.remove("qa") == first
        assert uow.locks.remove("qa") is None
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.locks.get("qa") is None


def test_audit_entries_come_back_newest_first_with_id_and_time(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        for actor in ("alice", "bob", "alice"):
            uow.audit.append(Entry(actor, "command", f"lock {actor}", "accepted", "x" * 5000))
        uow.commit()
    with store.unit_of_work() as uow:
        newest = uow.audit.recent(limit=2)
        alices = uow.audit.recent(actor="alice")
        older = uow.audit.recent(limit=2, offset=2)
    assert [e.actor for e in newest] == ["alice", "bob"]
    assert [e.id for e in alices] == [newest[0].id, older[0].id]
    assert newest[0].at is not None and older[0].at is not None and newest[0].at > older[0].at
    assert len(newest[0].detail) == 2000


def test_the_audit_log_refuses_update_and_delete_in_the_database(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.audit.append(Entry("alice", "command", "promote web:dev-1234567", "accepted"))
        uow.commit()
    for statement in ("UPDATE audit SET actor = 'mallory'", "DELETE FROM audit"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.execute(text(statement))
    with store.unit_of_work() as uow:
        assert [e.actor for e in uow.audit.recent()] == ["alice"]


def test_the_audit_repository_offers_no_way_to_change_an_entry(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        methods = {name for name in dir(uow.audit) if not name.startswith("_")}
    assert methods == {"append", "append_all", "recent"}


def test_claiming_leaves_held_environments_promotions_but_takes_their_rollbacks(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        waiting = uow.operations.add(operation(env="qa"))
        rollback = uow.operations.add(operation(env="qa", kind=Kind.ROLLBACK))
        elsewhere = uow.operations.add(operation(app="api", env="qa"))
        uow.commit()
    with store.unit_of_work() as uow:
        claimed = [uow.operations.claim_next(held={"qa"}) for _ in range(2)]
        uow.commit()
    assert [op.id if op else None for op in claimed] == [rollback.id, None]
    with store.unit_of_work() as uow:
        assert uow.operations.get(waiting.id or 0).state is State.QUEUED  # type: ignore[union-attr]
        assert uow.operations.get(elsewhere.id or 0).state is State.QUEUED  # type: ignore[union-attr]


def test_downgrading_below_0003_drops_locks_and_audit_and_upgrading_brings_them_back(database_url: str) -> None:
    store = SqlStore(database_url)
    try:
        store.migrate()
        head = store.revision()
        with store.engine.begin() as connection:
            cfg = migrating.config()
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "0002")
        assert store.revision() == "0002"
        with store.engine.connect() as connection:
            assert {"locks", "audit"}.isdisjoint(inspect(connection).get_table_names())
        store.migrate()
        assert store.revision() == head
    finally:
        store.dispose()
