"""The holds repository: at most one per (app, env), keeping an environment on a rolled-back artifact."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from promobot.adapters.store import writes
from promobot.adapters.store.tables import holds
from promobot.domain.deployments import Hold


class SqlHolds:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, app: str, env: str) -> Hold | None:
        row = self._session.execute(select(holds).where(holds.c.app == app, holds.c.env == env)).first()
        if row is None:
            return None
        return Hold(app=row.app, env=row.env, tag=row.tag, by=row.by, at=row.at)

    def set(self, hold: Hold) -> None:
        """Hold (app, env) on `hold.tag`, replacing any hold it had."""
        writes.upsert(
            self._session, holds, {"app": hold.app, "env": hold.env}, {"tag": hold.tag, "by": hold.by, "at": hold.at}
        )

    def clear(self, app: str, env: str) -> None:
        self._session.execute(delete(holds).where(holds.c.app == app, holds.c.env == env))
