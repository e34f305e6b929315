"""`current_deployments` (migration 0004): the newest deployment of each pair, kept as deployments are added."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from store_samples import DIGEST_B, HEAD, deployment

from promobot.adapters.store import migrating, tables, writes
from promobot.adapters.store.sql import SqlStore
from promobot.domain.deployments import Health


def test_a_rolled_back_and_then_failed_deployment_is_what_list_shows(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.deployments.add(deployment())
        newer = uow.deployments.add(deployment(digest=DIGEST_B, state=Health.PROGRESSING))
        uow.commit()
    with store.unit_of_work() as uow:
        failed = uow.deployments.save(replace(newer, state=Health.FAILED))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.deployments.current_all() == [failed]


def test_a_deployment_rolled_back_with_its_transaction_leaves_the_pair_as_it_was(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        kept = uow.deployments.add(deployment())
        uow.commit()
    with store.unit_of_work() as uow:
        uow.deployments.add(deployment(digest=DIGEST_B))  # never committed
    with store.unit_of_work() as uow:
        assert uow.deployments.current_all() == [kept]


def test_the_pointer_never_moves_back_to_an_older_deployment(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        older, newer = uow.deployments.add(deployment()), uow.deployments.add(deployment(digest=DIGEST_B))
        uow.commit()
    assert older.id is not None
    with Session(store.engine) as session:  # a transaction that added `older` and commits last
        writes.raise_to(session, tables.current_deployments, {"app": "web", "env": "qa"}, "deployment_id", older.id)
        session.commit()
    with store.unit_of_work() as uow:
        assert uow.deployments.current_all() == [newer]


def test_upgrading_a_database_with_history_points_every_pair_at_its_newest(database_url: str) -> None:
    store = SqlStore(database_url)
    try:
        store.migrate()
        with store.engine.begin() as connection:
            cfg = migrating.config()
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "0003")
        columns = [c.name for c in tables.deployments.c if c.name != "id"]
        at = datetime(2024, 5, 1, tzinfo=UTC)
        pairs = [(app, env) for app in ("web", "api") for env in ("qa", "prod")]
        rows = [deployment(app=a, env=e, tag=f"{e}-{n:07d}", started_at=at) for n in range(3) for a, e in pairs]
        with store.engine.begin() as connection:
            values = [{name: getattr(d, name) for name in columns} | {"state": str(d.state)} for d in rows]
            connection.execute(insert(tables.deployments), values)
        store.migrate()
        assert store.revision() == HEAD
        with store.engine.connect() as connection:
            pointed = connection.execute(select(tables.current_deployments)).all()
        with store.unit_of_work() as uow:
            current = uow.deployments.current_all()
        assert len(pointed) == 4
        assert {(d.app, d.env, d.tag) for d in current} == {
            (app, env, f"{env}-0000002") for app in ("web", "api") for env in ("qa", "prod")
        }
    finally:
        store.dispose()
