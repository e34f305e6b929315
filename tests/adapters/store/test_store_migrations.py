"""Migrations: the schema comes from Alembic, matches the tables the code uses, and re-running is harmless."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from store_samples import HEAD, operation

from promobot.adapters.store import tables
from promobot.adapters.store.sql import SqlStore


def test_migrating_twice_changes_nothing(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        added = uow.operations.add(operation())
        uow.commit()
    before = inspect(store.engine).get_table_names()

    store.migrate()

    assert store.revision() == HEAD
    assert inspect(store.engine).get_table_names() == before
    with store.unit_of_work() as uow:
        assert added.id is not None
        assert uow.operations.get(added.id) == added


def test_a_new_database_has_no_revision_until_migrated(database_url: str) -> None:
    store = SqlStore(database_url)
    try:
        assert store.revision() is None
        store.migrate()
        assert store.revision() == HEAD
    finally:
        store.dispose()


def test_the_migrated_schema_matches_the_table_definitions(store: SqlStore) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, tables.metadata)
    assert differences == []


def test_constructing_a_store_connects_to_nothing(tmp_path: Path) -> None:
    SqlStore(f"sqlite:///{tmp_path / 'never.db'}").dispose()
    SqlStore("postgresql+psycopg://nobody@127.0.0.1:1/nothing").dispose()
    assert not (tmp_path / "never.db").exists()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'promobot.db'}")
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        store.dispose()


def test_two_replicas_migrating_at_once_both_succeed(database_url: str) -> None:
    stores = [SqlStore(database_url), SqlStore(database_url)]
    start = threading.Barrier(len(stores))
    failures: list[BaseException] = []

    def migrate(store: SqlStore) -> None:
        start.wait()
        try:
            store.migrate()
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=migrate, args=(store,)) for store in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        assert [store.revision() for store in stores] == [HEAD, HEAD]
    finally:
        for store in stores:
            store.dispose()
