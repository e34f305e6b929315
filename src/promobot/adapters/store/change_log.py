"""`SqlChangeLog`: reading the change log (`ports.ChangeLog`) that the repositories write (`changes.py`).

Every read is its own short transaction. `after` loads each change's operation or deployment as it is now,
in one query per kind. `current_since` gives the board's keeper (`service/boards.py`) the current deployment
of every pair logged since the board it holds, whatever their number, in one statement (a join from the
log, not a list of pairs: far cheaper to plan and run on both databases).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, Select, bindparam, case, func, select
from sqlalchemy.orm import Session, sessionmaker

from promobot import ports
from promobot.adapters.store import changes as writing
from promobot.adapters.store import deployments as deployment_rows
from promobot.adapters.store.deployments import SqlDeployments
from promobot.adapters.store.operations import SqlOperations
from promobot.adapters.store.tables import changes, current_deployments, deployments
from promobot.adapters.store.timestamps import utc_now
from promobot.domain.deployments import Deployment
from promobot.domain.operations import Operation

Value = Operation | Deployment
VERSION = select(func.max(changes.c.id), func.count(changes.c.id)).where(changes.c.id > bindparam("floor"))
VERSION_SQLITE = "SELECT max(id), count(id) FROM changes WHERE id > ?"
OLDEST = select(func.min(changes.c.id))
_TOUCHED = (
    select(
        changes.c.app,
        changes.c.env,
        func.max(case((changes.c.kind == writing.OPERATION, 1), else_=0)).label("operations"),
    )
    .where(changes.c.id > bindparam("after"))
    .group_by(changes.c.app, changes.c.env)
    .subquery()
)
# Each pair logged above `after`: whether an operation of it changed (1 or 0), and its current deployment's
# columns (NULL when it has none); the oldest kept id in front of each row.
CURRENT_SINCE = select(
    OLDEST.scalar_subquery(), _TOUCHED.c.app, _TOUCHED.c.env, _TOUCHED.c.operations, *deployment_rows.PLAIN_TIMES
).select_from(
    _TOUCHED.outerjoin(
        current_deployments,
        (current_deployments.c.app == _TOUCHED.c.app) & (current_deployments.c.env == _TOUCHED.c.env),
    ).outerjoin(deployments, deployments.c.id == current_deployments.c.deployment_id)
)


class _Clock:
    def now(self) -> datetime:
        return utc_now()


class SqlChangeLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(bind=engine, autoflush=False)

    def version(self, floor: int) -> tuple[int, int]:
        """Asked on every `list`: a plain read outside any transaction (no BEGIN IMMEDIATE on SQLite, so it
        never waits for a writer; no ROLLBACK round trip on PostgreSQL)."""
        if self._engine.dialect.name == "sqlite":
            raw = self._engine.raw_connection()  # autocommit: the driver's own transactions are off
            try:
                newest, count = raw.cursor().execute(VERSION_SQLITE, (floor,)).fetchone()
            finally:
                raw.close()
        else:
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                newest, count = connection.execute(VERSION, {"floor": floor}).one()
        return (newest if newest is not None else floor), count

    def settled(self, before: datetime) -> int:
        found = self._read(select(changes.c.id).where(changes.c.at < before).order_by(changes.c.at.desc()).limit(1))
        return found[0][0] if found else 0

    def after(self, change_id: int, *, limit: int) -> list[ports.LoggedChange]:
        with self._sessions() as session:
            rows = session.execute(
                select(changes.c.id, changes.c.kind, changes.c.app, changes.c.env, changes.c.subject_id)
                .where(changes.c.id > change_id)
                .order_by(changes.c.id)
                .limit(limit)
            ).all()
            values = _values(session, rows)
        return [
            ports.LoggedChange(id=id_, kind=kind, app=app, env=env, value=values.get((kind, subject)))
            for id_, kind, app, env, subject in rows
        ]

    def _read(self, statement: Select[Any], values: Mapping[str, Any] | None = None) -> Sequence[Any]:
        """One read-only statement: on PostgreSQL outside a transaction (one round trip, no ROLLBACK)."""
        if self._engine.dialect.name == "postgresql":
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                return connection.execute(statement, values).all()
        with self._sessions() as session:
            return session.execute(statement, values).all()

    def oldest(self) -> int | None:
        with self._sessions() as session:
            found: int | None = session.execute(select(func.min(changes.c.id))).scalar()
        return found

    def prune(self, *, before: datetime, keep: int) -> int:
        """Forget changes logged before `before`, always keeping the newest `keep` (writers do it as they go)."""
        with self._sessions() as session:
            gone = writing.prune(session, before=before, keep=keep)
            session.commit()
        return gone

    def current_since(self, change_id: int) -> dict[tuple[str, str], ports.PairSince] | None:
        """One statement (`CURRENT_SINCE`); a second (`OLDEST`) only when no pair was logged since."""
        rows = self._read(CURRENT_SINCE, {"after": change_id})
        oldest = rows[0][0] if rows else self._read(OLDEST)[0][0]
        if (oldest is None and change_id > 0) or (oldest is not None and oldest > change_id + 1):
            return None  # the changes just above `change_id` may have been pruned (or the log emptied)
        return {
            (app, env): ports.PairSince(
                deployment_rows.from_plain_row(columns) if columns[0] is not None else None, bool(operations)
            )
            for _, app, env, operations, *columns in rows
        }


def _values(session: Session, rows: Sequence[Row[Any, Any, Any, Any, Any]]) -> dict[tuple[str, int], Value]:
    """Each change's operation or deployment as it is now, keyed by (kind, id): one query per kind."""
    wanted: dict[str, set[int]] = {}
    for _, kind, _, _, subject in rows:
        wanted.setdefault(kind, set()).add(subject)
    found: dict[tuple[str, int], Value] = {}
    if wanted.get(writing.OPERATION):
        for operation in SqlOperations(session, _Clock()).many(wanted[writing.OPERATION]):
            found[(writing.OPERATION, operation.id or 0)] = operation
    if wanted.get(writing.DEPLOYMENT):
        for deployment in SqlDeployments(session, _Clock()).many(wanted[writing.DEPLOYMENT]):
            found[(writing.DEPLOYMENT, deployment.id or 0)] = deployment
    return found


def _conforms(log: SqlChangeLog) -> ports.ChangeLog:
    """Never called: mypy checks here that SqlChangeLog implements the ChangeLog port."""
    return log
