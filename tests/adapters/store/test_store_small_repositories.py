"""Holds, approvals and deliveries: small tables with one rule each."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from store_samples import operation

from promobot.adapters.store.sql import SqlStore
from promobot.domain import errors
from promobot.domain.deployments import Hold

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_a_hold_is_set_read_replaced_and_cleared(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.holds.set(Hold("web", "dev", "dev-1111111", "ann", AT))
        uow.holds.set(Hold("web", "dev", "dev-2222222", "bob", AT))
        uow.holds.set(Hold("web", "qa", "qa-3333333", "ann", AT))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.holds.get("web", "dev") == Hold("web", "dev", "dev-2222222", "bob", AT)
        assert uow.holds.get("api", "dev") is None
        uow.holds.clear("web", "dev")
        uow.holds.clear("web", "staging")  # clearing what is not held is fine
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.holds.get("web", "dev") is None
        assert uow.holds.get("web", "qa") is not None


def test_approvals_are_listed_in_order_and_counted_once_per_user(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        op = uow.operations.add(operation(env="prod"))
        other = uow.operations.add(operation(env="staging"))
        assert op.id is not None and other.id is not None
        uow.approvals.add(op.id, "carol")
        uow.approvals.add(op.id, "bob")
        uow.approvals.add(op.id, "carol")
        uow.approvals.add(other.id, "dave")
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.approvals.of(op.id) == ["carol", "bob"]
        assert uow.approvals.of(other.id) == ["dave"]
        assert uow.approvals.of(op.id + 1000) == []


def test_approving_an_unknown_operation_is_refused(store: SqlStore) -> None:
    with store.unit_of_work() as uow, pytest.raises(errors.UnknownOperation):
        uow.approvals.add(4242, "bob")


def test_a_delivery_is_new_once_per_source(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        assert uow.deliveries.first_time("github", "d-1") is True
        assert uow.deliveries.first_time("gitlab", "d-1") is True
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.deliveries.first_time("github", "d-1") is False
        assert uow.deliveries.first_time("github", "d-2") is True


def test_a_duplicate_delivery_leaves_the_surrounding_transaction_usable(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        assert uow.deliveries.first_time("flux", "abc") is True
        added = uow.operations.add(operation())
        assert uow.deliveries.first_time("flux", "abc") is False
        after = uow.operations.add(operation(env="prod"))
        uow.commit()
    with store.unit_of_work() as uow:
        assert [op.id for op in uow.operations.recent()] == [after.id, added.id]
        assert uow.deliveries.first_time("flux", "abc") is False


def test_old_deliveries_can_be_forgotten(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.deliveries.first_time("argocd", "old")
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.forget_deliveries_before(datetime.now(UTC).replace(year=2100)) == 1
        assert uow.deliveries.first_time("argocd", "old") is True
