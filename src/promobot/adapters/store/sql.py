"""`SqlStore`: the database behind promobot (SQLite or PostgreSQL), implementing `ports.Store`.

Build one per process and share it between threads; each `unit_of_work()` gets its own Session and
connection. Nothing connects until the first unit of work or `migrate()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.orm import sessionmaker

from promobot import ports
from promobot.adapters.store import engines, migrating
from promobot.adapters.store.timestamps import utc_now
from promobot.adapters.store.unit_of_work import SqlUnitOfWork
from promobot.ports import Clock


class _SystemClock:
    def now(self) -> datetime:
        return utc_now()


class SqlStore:
    def __init__(self, url: str, *, clock: Clock | None = None) -> None:
        self.engine = engines.make_engine(url)
        self._clock: Clock = clock or _SystemClock()
        self._sessions = sessionmaker(bind=self.engine, expire_on_commit=False, autoflush=False)

    @contextmanager
    def unit_of_work(self) -> Iterator[SqlUnitOfWork]:
        """`with store.unit_of_work() as uow: ...; uow.commit()`; leaving without commit rolls back."""
        with self._sessions() as session:
            try:
                yield SqlUnitOfWork(session, self._clock)
            finally:
                session.rollback()

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision; a no-op when it is there already."""
        migrating.upgrade(self.engine)

    def revision(self) -> str | None:
        """The Alembic revision the database is at, or None before `migrate()`."""
        return migrating.current(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection (the store can still be used; it reconnects on demand)."""
        self.engine.dispose()


def _conforms(store: SqlStore) -> ports.Store:
    """Never called: mypy checks here that SqlStore implements the Store port."""
    return store
