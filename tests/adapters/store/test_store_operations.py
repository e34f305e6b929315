"""The operations repository: every field kept, an audit trail of changes, and the views the service reads."""

from __future__ import annotations

from dataclasses import replace

import pytest
from store_samples import SHA_B, ManualClock, operation

from promobot.adapters.store.sql import SqlStore
from promobot.domain import errors
from promobot.domain.operations import Kind, Operation, State, Step


def _add(store: SqlStore, *operations: Operation) -> list[Operation]:
    with store.unit_of_work() as uow:
        added = [uow.operations.add(op) for op in operations]
        uow.commit()
    return added


def test_add_sets_id_and_timestamps_and_get_returns_every_field(store: SqlStore) -> None:
    wanted = operation(
        kind=Kind.ROLLBACK,
        message="rolling back",
        branch_commit=SHA_B,
        pr_number=7,
        pr_url="http://127.0.0.1/pr/7",
        pinned_digest="sha256:" + "c" * 64,
        deployment_id=3,
    )
    [added] = _add(store, wanted)

    assert added.id is not None
    assert added.created_at is not None and added.created_at == added.updated_at
    assert replace(added, id=None, created_at=None, updated_at=None) == wanted
    with store.unit_of_work() as uow:
        assert uow.operations.get(added.id) == added
        assert uow.operations.get(added.id + 1000) is None


def test_save_persists_every_field_and_moves_updated_at(store: SqlStore) -> None:
    [added] = _add(store, operation())
    changed = replace(
        added.move(State.RUNNING, step=Step.PINNED, message="pinned"),
        branch_commit=SHA_B,
        pr_number=12,
        pr_url="http://127.0.0.1/pr/12",
        pinned_digest="sha256:" + "d" * 64,
        deployment_id=9,
        target_tag="qa-9f8e7d6",
    )
    with store.unit_of_work() as uow:
        saved = uow.operations.save(changed)
        uow.commit()

    assert saved.updated_at is not None and added.updated_at is not None
    assert saved.updated_at > added.updated_at
    assert replace(saved, updated_at=None) == replace(changed, updated_at=None)
    with store.unit_of_work() as uow:
        assert added.id is not None
        assert uow.operations.get(added.id) == saved


def test_events_record_each_change_of_state_step_or_message_in_order(store: SqlStore) -> None:
    [added] = _add(store, operation())
    with store.unit_of_work() as uow:
        running = uow.operations.save(added.move(State.RUNNING))
        uow.operations.save(replace(running, pr_url="http://127.0.0.1/pr/1"))  # no event: nothing people see
        branch = uow.operations.save(running.at(Step.BRANCH_UPDATED))
        uow.operations.save(branch.at(Step.BRANCH_UPDATED, "waiting for CI"))
        uow.operations.save(branch.move(State.SUCCEEDED, step=Step.DONE, message="deployed"))
        uow.commit()
        assert added.id is not None
        events = uow.operations.events(added.id)

    assert [(e.state, e.step, e.message) for e in events] == [
        (State.QUEUED, Step.REQUESTED, ""),
        (State.RUNNING, Step.REQUESTED, ""),
        (State.RUNNING, Step.BRANCH_UPDATED, ""),
        (State.RUNNING, Step.BRANCH_UPDATED, "waiting for CI"),
        (State.SUCCEEDED, Step.DONE, "deployed"),
    ]
    assert all(e.operation_id == added.id for e in events)
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert all(e.at.tzinfo is not None for e in events)


def test_saving_an_operation_never_stored_is_refused(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        with pytest.raises(errors.UnknownOperation):
            uow.operations.save(operation())
        with pytest.raises(errors.UnknownOperation):
            uow.operations.save(replace(operation(), id=4242))


def test_approvers_come_from_the_approvals_in_order(store: SqlStore) -> None:
    [first, second] = _add(store, operation(env="prod"), operation(env="staging"))
    assert first.id is not None and second.id is not None
    with store.unit_of_work() as uow:
        uow.approvals.add(first.id, "bob")
        uow.approvals.add(first.id, "carol")
        uow.commit()
        assert uow.operations.get(first.id) == replace(first, approvers=["bob", "carol"])
        assert [op.approvers for op in uow.operations.recent()] == [[], ["bob", "carol"]]
        saved = uow.operations.save(replace(first, approvers=[]))  # approvers are not a column
    assert saved.approvers == ["bob", "carol"]


def test_active_lists_running_and_awaiting_approval_oldest_first(store: SqlStore) -> None:
    added = _add(
        store,
        operation(env="qa", state=State.AWAITING_APPROVAL),
        operation(env="staging"),
        operation(env="prod", state=State.RUNNING),
        operation(env="dev", state=State.SUCCEEDED),
    )
    with store.unit_of_work() as uow:
        assert [op.id for op in uow.operations.active()] == [added[0].id, added[2].id]


def test_blocking_lists_unfinished_operations_of_one_app_and_env(store: SqlStore) -> None:
    added = _add(
        store,
        operation(state=State.RUNNING),
        operation(state=State.CANCELLED),
        operation(),
        operation(app="api"),
        operation(env="prod"),
    )
    with store.unit_of_work() as uow:
        assert [op.id for op in uow.operations.blocking("web", "qa")] == [added[0].id, added[2].id]
        assert uow.operations.blocking("web", "staging") == []


def test_recent_is_newest_first_filtered_and_limited(store: SqlStore) -> None:
    added = _add(store, operation(), operation(app="api"), operation(env="prod"), operation(app="api", env="prod"))
    ids = [op.id for op in added]
    with store.unit_of_work() as uow:
        assert [op.id for op in uow.operations.recent()] == ids[::-1]
        assert [op.id for op in uow.operations.recent(limit=2)] == ids[:1:-1]
        assert [op.id for op in uow.operations.recent(app="api")] == [ids[3], ids[1]]
        assert [op.id for op in uow.operations.recent(env="prod")] == [ids[3], ids[2]]
        assert [op.id for op in uow.operations.recent(app="web", env="prod")] == [ids[2]]


def test_a_second_active_operation_on_one_app_and_env_is_refused(store: SqlStore) -> None:
    [running, queued] = _add(store, operation(state=State.RUNNING), operation())
    with store.unit_of_work() as uow:
        with pytest.raises(errors.InvalidTransition, match="already has an active operation"):
            uow.operations.save(queued.move(State.RUNNING))
        with pytest.raises(errors.InvalidTransition):
            uow.operations.add(operation(state=State.AWAITING_APPROVAL))
        assert [op.id for op in uow.operations.blocking("web", "qa")] == [running.id, queued.id]  # still usable


def test_a_clock_reading_stamps_created_and_updated_at(store: SqlStore, clock: ManualClock) -> None:
    [added] = _add(store, operation())
    assert added.created_at == clock.at
