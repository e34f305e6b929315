"""The deployments repository: what each environment ran, newest last, and how it went.

The index on (app, env, id) serves `current` and `history`; the one on (app, env, state, id) serves
`last_healthy`. `add` also points the pair's row of `current_deployments` at the new deployment, in the
same transaction, so `current_all` reads one row per pair instead of a group-wise max over the history.
`add` and `save` log the change in the change log (`changes.py`), in the same transaction too.
`current_of` and `save_all` are the batch forms a burst of engine reports uses: one statement each for
any number of deployments, built once (building a statement costs more CPU than running it).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, bindparam, select, tuple_, type_coerce, update
from sqlalchemy.orm import Session

from promobot.adapters.store import changes, writes
from promobot.adapters.store.tables import current_deployments, deployments
from promobot.adapters.store.timestamps import UtcDateTime
from promobot.domain.deployments import Deployment, Health
from promobot.ports import Clock

# Every column but `id`, which the database assigns.
FIELDS = (
    "app",
    "env",
    "tag",
    "digest",
    "source_revision",
    "revision",
    "state",
    "deployed_by",
    "operation_id",
    "started_at",
    "finished_at",
    "url",
    "message",
)


class SqlDeployments:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def add(self, deployment: Deployment) -> Deployment:
        now = self._clock.now()
        stored = replace(deployment, started_at=deployment.started_at or now)
        new_id = writes.insert_returning_id(self._session, deployments, _row(stored))
        writes.raise_to(
            self._session, current_deployments, {"app": stored.app, "env": stored.env}, "deployment_id", new_id
        )
        self._logged(stored, new_id, now)
        return replace(stored, id=new_id)

    def save(self, deployment: Deployment) -> Deployment:
        if deployment.id is None:
            raise ValueError("a deployment must be added before it is saved")
        now = self._clock.now()
        stored = replace(deployment, started_at=deployment.started_at or now)
        changed = update(deployments).where(deployments.c.id == deployment.id).values(**_row(stored))
        if not writes.rowcount(self._session.execute(changed)):
            raise ValueError(f"there is no deployment {deployment.id}")
        self._logged(stored, deployment.id, now)
        return stored

    def save_all(self, saved: Iterable[Deployment]) -> list[Deployment]:
        """`save` for each (in id order, so concurrent batches lock rows in one order): one UPDATE
        statement and one change-log insert for all of them."""
        now = self._clock.now()
        stored = sorted((replace(each, started_at=each.started_at or now) for each in saved), key=_id)
        if not stored:
            return []
        rows = [{**_row(each), "saved_id": each.id} for each in stored]
        if writes.rowcount(self._session.execute(_SAVE, rows)) not in (len(rows), -1):
            missing = [each.id for each in stored if self.get(_id(each)) is None]
            raise ValueError(f"there is no deployment {', '.join(map(str, missing))}")
        changes.record_many(
            self._session,
            [
                {"kind": changes.DEPLOYMENT, "app": each.app, "env": each.env, "subject_id": each.id, "at": now}
                for each in stored
            ],
        )
        return stored

    def current_of(self, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], Deployment]:
        """The newest deployment of each of these (app, env) pairs that has one, in one query."""
        if not pairs:
            return {}
        rows = self._session.execute(_CURRENT_OF, {"pairs": list(pairs)}).all()
        found = (_deployment(row, aware=False) for row in rows)
        return {(each.app, each.env): each for each in found}

    def _logged(self, deployment: Deployment, deployment_id: int, at: datetime) -> None:
        changes.record(
            self._session,
            changes.DEPLOYMENT,
            app=deployment.app,
            env=deployment.env,
            subject_id=deployment_id,
            at=at,
        )

    def get(self, deployment_id: int) -> Deployment | None:
        row = self._session.execute(select(deployments).where(deployments.c.id == deployment_id)).first()
        return _deployment(row) if row is not None else None

    def many(self, deployment_ids: Collection[int]) -> list[Deployment]:
        """The deployments with these ids (those that exist), in id order."""
        rows = self._session.execute(
            select(deployments).where(deployments.c.id.in_(list(deployment_ids))).order_by(deployments.c.id)
        ).all()
        return [_deployment(row) for row in rows]

    def current(self, app: str, env: str) -> Deployment | None:
        history = self.history(app, env, limit=1)
        return history[0] if history else None

    def current_all(self) -> list[Deployment]:
        rows = self._session.execute(
            select(*PLAIN_TIMES)
            .join(current_deployments, deployments.c.id == current_deployments.c.deployment_id)
            .order_by(deployments.c.app, deployments.c.env)
        ).all()  # one fetchall, not a fetchone per row
        return [_deployment(row, aware=False) for row in rows]

    def history(self, app: str, env: str, *, limit: int = 50) -> list[Deployment]:
        rows = self._session.execute(
            select(deployments)
            .where(deployments.c.app == app, deployments.c.env == env)
            .order_by(deployments.c.id.desc())
            .limit(limit)
        )
        return [_deployment(row) for row in rows]

    def last_healthy(self, app: str, env: str, *, before_id: int | None = None) -> Deployment | None:
        query = (
            select(deployments)
            .where(
                deployments.c.app == app,
                deployments.c.env == env,
                deployments.c.state == str(Health.HEALTHY),
            )
            .order_by(deployments.c.id.desc())
            .limit(1)
        )
        if before_id is not None:
            query = query.where(deployments.c.id < before_id)
        row = self._session.execute(query).first()
        return _deployment(row) if row is not None else None


def _row(deployment: Deployment) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(deployment, name) for name in FIELDS}
    values["state"] = str(deployment.state)
    return values


# Rows are read by position (the table's column order): `row.name` lookups cost more than the query when
# `list` reads the newest deployment of a thousand apps in four environments.
COLUMNS = ("id", *FIELDS)
assert tuple(deployments.c.keys()) == COLUMNS, "deployments' columns moved: update FIELDS"
HEALTH = {str(health): health for health in Health}


# The columns with the timestamps read as the dialect gives them, without UtcDateTime's per-value wrapper:
# `_deployment(aware=False)` makes them aware UTC itself (for the 4,000 rows of `list`, ~10 ms less).
PLAIN_TIMES = tuple(
    type_coerce(column, DateTime(timezone=True)) if isinstance(column.type, UtcDateTime) else column
    for column in deployments.c
)


# The batch statements, built once. `saved_id`: SQLAlchemy keeps the column names for the SET clause.
_SAVE = update(deployments).where(deployments.c.id == bindparam("saved_id"))
_CURRENT_OF = (
    select(*PLAIN_TIMES)
    .join(current_deployments, deployments.c.id == current_deployments.c.deployment_id)
    .where(tuple_(current_deployments.c.app, current_deployments.c.env).in_(bindparam("pairs", expanding=True)))
)


def _id(deployment: Deployment) -> int:
    if deployment.id is None:
        raise ValueError("a deployment must be added before it is saved")
    return deployment.id


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _deployment(row: Sequence[Any], *, aware: bool = True) -> Deployment:
    (id_, app, env, tag, digest, source, revision, state, by, operation, started, finished, url, message) = row
    if not aware:
        started, finished = _utc(started), _utc(finished)
    return Deployment(
        app=app,
        env=env,
        tag=tag,
        digest=digest,
        source_revision=source,
        revision=revision,
        state=HEALTH.get(state) or Health(state),
        deployed_by=by,
        operation_id=operation,
        started_at=started,
        finished_at=finished,
        url=url,
        message=message,
        id=id_,
    )


def from_plain_row(row: Sequence[Any]) -> Deployment:
    """A deployment from a row of the `PLAIN_TIMES` columns, for a reader that selects them in a statement of
    its own (the change log's `current_since`)."""
    return _deployment(row, aware=False)
