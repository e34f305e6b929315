"""Advisory locks between replicas: one holder of the duties lease, one driver per operation, taken over
when a holder's connection dies; SQLite (single-process) always grants both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from promobot.adapters.store.leases import SqlLease, SqlOperationLocks
from support import databases


def _engine(url: str) -> Engine:
    return create_engine(url)


@pytest.fixture
def postgresql_url(tmp_path: Path) -> Iterator[str]:
    with databases.fresh(databases.POSTGRESQL, tmp_path) as url:
        yield url


def test_only_one_replica_holds_the_lease_until_it_lets_go(postgresql_url: str) -> None:
    one, two = _engine(postgresql_url), _engine(postgresql_url)
    first, second = SqlLease(one), SqlLease(two)
    try:
        assert first.try_acquire() and first.held
        assert not second.try_acquire() and not second.held
        assert first.try_acquire()  # still held: asking again answers yes
        first.release()
        assert not first.held
        assert second.try_acquire() and second.held
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()
        one.dispose()
        two.dispose()


def test_a_holder_whose_connection_dies_loses_the_lease_and_another_takes_it(postgresql_url: str) -> None:
    one, two = _engine(postgresql_url), _engine(postgresql_url)
    first, second = SqlLease(one), SqlLease(two)
    try:
        assert first.try_acquire()
        pid = first.backend_pid()
        assert pid is not None
        with two.connect() as admin:  # what a killed process looks like to the server: its backend ends
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert second.try_acquire()
        assert not first.try_acquire()  # the old holder notices it lost the lease
        assert not first.held
    finally:
        first.release()
        second.release()
        one.dispose()
        two.dispose()


def test_leases_of_two_schemas_in_one_database_do_not_block_each_other(tmp_path: Path) -> None:
    pg = databases.POSTGRESQL
    with databases.fresh(pg, tmp_path / "a") as a, databases.fresh(pg, tmp_path / "b") as b:
        one, two = _engine(a), _engine(b)
        first, second = SqlLease(one), SqlLease(two)
        try:
            assert first.try_acquire() and second.try_acquire()
            with SqlOperationLocks(one).hold(7) as mine, SqlOperationLocks(two).hold(7) as theirs:
                assert mine and theirs
        finally:
            first.release()
            second.release()
            one.dispose()
            two.dispose()


def test_an_operation_is_driven_by_one_replica_at_a_time(postgresql_url: str) -> None:
    one, two = _engine(postgresql_url), _engine(postgresql_url)
    mine, theirs = SqlOperationLocks(one), SqlOperationLocks(two)
    try:
        with mine.hold(1) as held:
            assert held
            with theirs.hold(1) as other:
                assert not other
            with theirs.hold(2) as other:
                assert other
        with theirs.hold(1) as other:
            assert other  # let go when the block ended
    finally:
        one.dispose()
        two.dispose()


def test_sqlite_always_grants_the_lease_and_every_operation(tmp_path: Path) -> None:
    engine = _engine(databases.sqlite_url(tmp_path))
    lease = SqlLease(engine)
    try:
        assert lease.try_acquire() and lease.held
        assert SqlLease(engine).try_acquire()
        locks = SqlOperationLocks(engine)
        with locks.hold(1) as first, locks.hold(1) as second:
            assert first and second
    finally:
        lease.release()
        engine.dispose()
