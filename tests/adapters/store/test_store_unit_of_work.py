"""A unit of work is one transaction: committed work stays, anything else is rolled back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from store_samples import operation

from promobot.adapters.store.sql import SqlStore
from promobot.domain.deployments import Hold


def test_leaving_without_commit_rolls_back(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        added = uow.operations.add(operation())
        uow.holds.set(Hold("web", "qa", "qa-1a2b3c4", "ann", datetime.now(UTC)))
    with store.unit_of_work() as uow:
        assert added.id is not None
        assert uow.operations.get(added.id) is None
        assert uow.holds.get("web", "qa") is None


def test_an_error_inside_rolls_back_and_propagates(store: SqlStore) -> None:
    with pytest.raises(RuntimeError, match="boom"), store.unit_of_work() as uow:
        uow.operations.add(operation())
        raise RuntimeError("boom")
    with store.unit_of_work() as uow:
        assert uow.operations.recent() == []


def test_committed_work_is_seen_by_the_next_unit_of_work(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        added = uow.operations.add(operation())
        uow.commit()
    with store.unit_of_work() as uow:
        assert added.id is not None
        assert uow.operations.get(added.id) == added


def test_rollback_discards_work_since_the_last_commit(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        kept = uow.operations.add(operation(env="qa"))
        uow.commit()
        uow.operations.add(operation(env="staging"))
        uow.rollback()
        assert [op.id for op in uow.operations.recent()] == [kept.id]


def test_uncommitted_work_is_invisible_to_another_unit_of_work(store: SqlStore, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one writing transaction at a time; a second would wait for the first")
    with store.unit_of_work() as writer:
        writer.operations.add(operation())
        with store.unit_of_work() as reader:
            assert reader.operations.recent() == []


def test_timestamps_come_back_timezone_aware_in_utc(store: SqlStore) -> None:
    kyiv = timezone(timedelta(hours=3))
    at = datetime(2024, 6, 1, 15, 30, 5, 123456, tzinfo=kyiv)
    with store.unit_of_work() as uow:
        uow.holds.set(Hold("web", "qa", "qa-1a2b3c4", "ann", at))
        uow.commit()
    with store.unit_of_work() as uow:
        hold = uow.holds.get("web", "qa")
    assert hold is not None
    assert hold.at == at
    assert hold.at.tzinfo is UTC
    assert hold.at.hour == 12


def test_naive_timestamps_are_refused(store: SqlStore) -> None:
    with store.unit_of_work() as uow, pytest.raises(Exception, match="naive datetime"):
        uow.holds.set(Hold("web", "qa", "qa-1a2b3c4", "ann", datetime(2024, 6, 1, 12, 0)))
