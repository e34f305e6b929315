"""Advisory locks for several replicas on one PostgreSQL: the lease on single-instance duties, and a lock
per operation while a replica drives it.

`SqlLease` holds a session-level `pg_try_advisory_lock` on a dedicated connection: one replica holds it,
the others try again every few seconds, and when the holder dies its connection drops and PostgreSQL
frees the lock. `SqlOperationLocks.hold(id)` takes a session lock keyed by the operation's id on a pooled
connection for as long as the block runs, and lets go after. Keys are scoped to the database and schema,
so two promobot schemas in one database never block each other.

SQLite is single-process (`promobot.exclusive` refuses a second `serve`), so there the lease is always
held and every operation lock is granted. Thread-safe.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

log = structlog.get_logger(__name__)

SCOPE = "SELECT current_database() || '.' || coalesce(current_schema(), '')"
TRY_LEASE = "SELECT pg_try_advisory_lock(CAST(:key AS bigint))"
PAIR = "CAST(:space AS integer), CAST(:id AS integer)"


def _key(*parts: str, bits: int) -> int:
    """A stable signed integer of `bits` bits for a lock name."""
    digest = hashlib.blake2b(":".join(("promobot", *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True) >> (64 - bits)


class SqlLease:
    """A named lease (implements `ports.Lease`): `try_acquire()` until it answers True."""

    def __init__(self, engine: Engine, name: str = "duties") -> None:
        self._postgresql = engine.dialect.name == "postgresql"
        self._engine = create_engine(engine.url, poolclass=NullPool) if self._postgresql else None
        self._name = name
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def try_acquire(self) -> bool:
        """True while this process holds the lease: taken now, or held and its connection still alive.

        A held lease whose connection died answers False once (it is lost; someone else may hold it now),
        and is tried afresh on the next call.
        """
        with self._lock:
            if self._engine is None:
                self._held = True
                return True
            if self._connection is not None:
                try:
                    self._connection.execute(text("SELECT 1"))
                    return True
                except DBAPIError as exc:
                    log.warning("lease lost: its database connection failed", lease=self._name, error=str(exc))
                    self._drop()
                    return False
            try:
                connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            except DBAPIError as exc:
                log.warning("lease not tried: cannot reach the database", lease=self._name, error=str(exc))
                return False
            try:
                scope = str(connection.execute(text(SCOPE)).scalar_one())
                key = _key("lease", scope, self._name, bits=64)
                got = bool(connection.execute(text(TRY_LEASE), {"key": key}).scalar_one())
            except DBAPIError:
                connection.invalidate()
                connection.close()
                return False
            if not got:
                connection.close()
                return False
            self._connection, self._held = connection, True
            return True

    def backend_pid(self) -> int | None:
        """The PostgreSQL server process holding the lease for this process (for diagnostics), or None."""
        with self._lock:
            if self._connection is None:
                return None
            return int(self._connection.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def release(self) -> None:
        """Give the lease up (closing its connection frees the lock); a no-op when not held."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        connection, self._connection, self._held = self._connection, None, False
        if connection is not None:
            try:
                connection.close()
            except DBAPIError:
                connection.invalidate()


class SqlOperationLocks:
    """One lock per operation across every replica (implements `ports.OperationLocks`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._postgresql = engine.dialect.name == "postgresql"
        self._space: int | None = None

    @contextmanager
    def hold(self, operation_id: int) -> Iterator[bool]:
        """Yields True when this process holds operation `operation_id` for the block, False when another does."""
        if not self._postgresql:
            yield True
            return
        with self._engine.connect() as pooled:
            connection = pooled.execution_options(isolation_level="AUTOCOMMIT")
            if self._space is None:
                self._space = _key("operation", str(connection.execute(text(SCOPE)).scalar_one()), bits=32)
            keys = {"space": self._space, "id": operation_id & 0x7FFFFFFF}
            got = bool(connection.execute(text(f"SELECT pg_try_advisory_lock({PAIR})"), keys).scalar_one())
            try:
                yield got
            finally:
                if got:
                    _unlock(connection, keys)


def _unlock(connection: Connection, keys: dict[str, int]) -> None:
    try:
        connection.execute(text(f"SELECT pg_advisory_unlock({PAIR})"), keys)
    except DBAPIError:
        connection.invalidate()  # closed rather than pooled: a dropped connection holds no lock
