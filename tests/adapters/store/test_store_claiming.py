"""claim_next: workers take the oldest waiting operation, never two at once for one app and environment."""

from __future__ import annotations

import threading
from collections import Counter

from store_samples import operation

from promobot.adapters.store.sql import SqlStore
from promobot.domain.operations import Operation, State


def _claim(store: SqlStore) -> Operation | None:
    with store.unit_of_work() as uow:
        claimed = uow.operations.claim_next()
        uow.commit()
    return claimed


def test_claim_next_takes_the_oldest_queued_operation_and_records_it(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        first = uow.operations.add(operation(env="qa"))
        uow.operations.add(operation(env="staging"))
        uow.commit()

    claimed = _claim(store)

    assert claimed is not None and claimed.id == first.id
    assert claimed.state is State.RUNNING
    with store.unit_of_work() as uow:
        assert first.id is not None
        assert uow.operations.get(first.id) == claimed
        assert [e.state for e in uow.operations.events(first.id)] == [State.QUEUED, State.RUNNING]


def test_claim_next_skips_an_app_and_env_that_has_an_active_operation(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.operations.add(operation(env="qa", state=State.AWAITING_APPROVAL))
        uow.operations.add(operation(env="qa"))
        other = uow.operations.add(operation(env="staging"))
        uow.commit()

    claimed = _claim(store)

    assert claimed is not None and claimed.id == other.id
    assert _claim(store) is None


def test_claim_next_returns_none_when_nothing_waits(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.operations.add(operation(state=State.SUCCEEDED))
        uow.commit()
    assert _claim(store) is None


def test_claim_next_hands_out_one_operation_per_app_and_env_in_order(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        qa = [uow.operations.add(operation(env="qa")) for _ in range(3)]
        uow.commit()

    first = _claim(store)
    assert first is not None and first.id == qa[0].id
    assert _claim(store) is None
    with store.unit_of_work() as uow:
        uow.operations.save(first.move(State.SUCCEEDED))
        uow.commit()
    second = _claim(store)
    assert second is not None and second.id == qa[1].id


def _race(stores: list[SqlStore], workers: int) -> list[Operation]:
    """Start `workers` threads at once, each claiming until nothing is left; what they claimed."""
    start = threading.Barrier(workers)
    claimed: list[Operation] = []
    lock = threading.Lock()

    def work(store: SqlStore) -> None:
        start.wait()
        while (op := _claim(store)) is not None:
            with lock:
                claimed.append(op)

    threads = [threading.Thread(target=work, args=(stores[n % len(stores)],)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return claimed


def test_concurrent_workers_on_two_stores_never_run_two_operations_of_one_pair(
    store: SqlStore, database_url: str
) -> None:
    pairs = [(app, env) for app in ("web", "api", "db") for env in ("qa", "prod")]
    with store.unit_of_work() as uow:
        queued = [uow.operations.add(operation(app, env)) for _ in range(4) for app, env in pairs]
        uow.commit()
    other = SqlStore(database_url)  # a second process's store: its own engine and connections
    try:
        for round_number in range(4):
            claimed = _race([store, other], workers=8)

            assert Counter((op.app, op.env) for op in claimed) == dict.fromkeys(pairs, 1)
            oldest = queued[round_number * len(pairs) : (round_number + 1) * len(pairs)]
            assert {op.id for op in claimed} == {op.id for op in oldest}
            with store.unit_of_work() as uow:
                for op in claimed:
                    uow.operations.save(op.move(State.SUCCEEDED))
                uow.commit()
    finally:
        other.dispose()
    assert _claim(store) is None
