"""Two databases migrated from two threads of one process at once both reach the newest revision."""

from __future__ import annotations

import threading
from pathlib import Path

from promobot.adapters.store.sql import SqlStore


def test_two_stores_migrated_from_two_threads_at_once_both_succeed(tmp_path: Path) -> None:
    stores = [SqlStore(f"sqlite:///{tmp_path / f'db{n}.sqlite'}") for n in range(4)]
    failures: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def migrate(store: SqlStore) -> None:
        start.wait()
        try:
            store.migrate()
        except BaseException as exc:  # the thread's failure is the test's
            failures.append(exc)

    threads = [threading.Thread(target=migrate, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert len({store.revision() for store in stores}) == 1 and stores[0].revision() is not None
    for store in stores:
        store.dispose()
