"""The batch forms a burst of engine reports uses: current_of, save_all, first_times, append_all — each
the same as its one-at-a-time form, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from store_samples import DIGEST_B, ManualClock, deployment

from promobot.adapters.store import changes as writing
from promobot.adapters.store.change_log import SqlChangeLog
from promobot.adapters.store.sql import SqlStore
from promobot.domain import audit
from promobot.domain.deployments import Health


def test_current_of_gives_the_newest_deployment_of_each_pair_asked_and_nothing_for_others(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.deployments.add(deployment(app="web", env="qa", state=Health.DEGRADED))
        newest = uow.deployments.add(deployment(app="web", env="qa", digest=DIGEST_B))
        api = uow.deployments.add(deployment(app="api", env="prod"))
        uow.deployments.add(deployment(app="api", env="qa"))
        uow.commit()
    with store.unit_of_work() as uow:
        found = uow.deployments.current_of({("web", "qa"), ("api", "prod"), ("web", "prod")})
        assert found == {("web", "qa"): newest, ("api", "prod"): api}
        assert found == {pair: uow.deployments.current(*pair) for pair in found}  # as `current` says
        assert uow.deployments.current_of(set()) == {}


def test_save_all_writes_every_deployment_and_logs_each_change(store: SqlStore, clock: ManualClock) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        added = [uow.deployments.add(deployment(app=f"app{n}", state=Health.PROGRESSING)) for n in range(3)]
        uow.commit()
    before = log.version(0)[0]
    clock.at += timedelta(seconds=5)
    finished = [replace(each, state=Health.HEALTHY, finished_at=clock.at, url=f"http://x/{each.app}") for each in added]
    with store.unit_of_work() as uow:
        saved = uow.deployments.save_all(reversed(finished))
        uow.commit()
    assert saved == finished  # in id order, whatever order they came in
    with store.unit_of_work() as uow:
        assert [uow.deployments.get(each.id or 0) for each in added] == finished
    logged = log.after(before, limit=10)
    assert [(c.kind, c.app, c.env) for c in logged] == [("deployment", f"app{n}", "qa") for n in range(3)]
    assert [getattr(c.value, "state", None) for c in logged] == [Health.HEALTHY] * 3


def test_save_all_of_a_deployment_never_added_is_refused_and_the_transaction_writes_nothing(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        added = uow.deployments.add(deployment(state=Health.PROGRESSING))
        uow.commit()
    ghost = replace(added, id=(added.id or 0) + 1000)
    with store.unit_of_work() as uow, pytest.raises(ValueError, match=f"no deployment {ghost.id}"):
        uow.deployments.save_all([replace(added, state=Health.HEALTHY), ghost])
    with store.unit_of_work() as uow:
        assert uow.deployments.get(added.id or 0) == added


def test_save_all_prunes_the_change_log_when_it_crosses_the_mark(
    store: SqlStore, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = SqlChangeLog(store.engine)
    with store.unit_of_work() as uow:
        added = [uow.deployments.add(deployment(app=f"app{n}")) for n in range(writing.PRUNE_EVERY - 2)]
        uow.commit()
    clock.at += timedelta(seconds=writing.KEEP_SECONDS + 60)
    monkeypatch.setattr(writing, "KEEP_ROWS", 10)
    with store.unit_of_work() as uow:  # changes PRUNE_EVERY - 1 to PRUNE_EVERY + 1: one of them is the mark
        uow.deployments.save_all([replace(each, state=Health.DEGRADED) for each in added[:3]])
        uow.commit()
    remaining = log.after(0, limit=writing.PRUNE_EVERY)
    assert len(remaining) == 10 and remaining[-1].app == "app2"


def test_first_times_records_each_id_once_and_names_only_the_new_ones(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        assert uow.deliveries.first_time("engine", "d-1")
        uow.commit()
    with store.unit_of_work() as uow:
        fresh = uow.deliveries.first_times({("engine", "d-1"), ("engine", "d-2"), ("argocd", "d-1")})
        uow.commit()
    assert fresh == {("engine", "d-2"), ("argocd", "d-1")}
    with store.unit_of_work() as uow:
        assert uow.deliveries.first_times({("engine", "d-2"), ("engine", "d-3")}) == {("engine", "d-3")}
        assert not uow.deliveries.first_time("argocd", "d-1")


def test_append_all_keeps_every_entry_in_order(store: SqlStore) -> None:
    entries = [audit.Entry("engine", audit.WEBHOOK, f"engine delivery d-{n}", audit.ACCEPTED, "x") for n in range(3)]
    with store.unit_of_work() as uow:
        uow.audit.append(audit.Entry("alice", audit.OPERATION, "before", audit.ACCEPTED, ""))
        uow.audit.append_all(entries)
        uow.audit.append_all([])
        uow.commit()
    with store.unit_of_work() as uow:
        recent = uow.audit.recent(limit=10)
    assert [entry.subject for entry in reversed(recent)] == ["before", *(e.subject for e in entries)]
    assert all(entry.id is not None and entry.at is not None for entry in recent)
