"""Building the SQLAlchemy engine for a database URL; nothing connects until first use.

SQLite is shared by several threads of one process (and sometimes several processes): every connection
turns on WAL, a busy timeout and foreign keys, and every transaction starts with `BEGIN IMMEDIATE`, so a
transaction that reads and then writes never fails half-way on a lock another writer took in between.

PostgreSQL keeps enough pooled connections for the server's request threads (opening one costs a
backend process), and pings a connection before use only when it sat idle long enough that the server
may have dropped it: a busy server makes no extra round trip per transaction.
"""

from __future__ import annotations

import os
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as exc_
from sqlalchemy.engine import Connection

BUSY_TIMEOUT_MS = 30_000
POOL_ENV = "PROMOBOT_DB_POOL_SIZE"  # PostgreSQL connections a replica keeps open (default 20, +10 overflow)
POOL_SIZE = 20  # connections kept open: one per request thread that hits the database at once
MAX_OVERFLOW = 10
PING_AFTER_IDLE_SECONDS = 5.0


def make_engine(url: str) -> Engine:
    """An engine for `url` (`sqlite:///path.db` or `postgresql+psycopg://...`)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    pool_size = _pool_size()
    engine = create_engine(url, pool_size=pool_size, max_overflow=min(MAX_OVERFLOW, pool_size))
    _ping_when_idle(engine)
    return engine


def _pool_size() -> int:
    """PROMOBOT_DB_POOL_SIZE, for replicas that must share a server's `max_connections`."""
    text = os.environ.get(POOL_ENV, "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else POOL_SIZE


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()  # leave the connection idle, outside any transaction
        except Exception as exc:  # the server dropped it: the pool replaces it and tries once more
            raise exc_.DisconnectionError(f"pooled connection is gone: {exc}") from exc


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is turned off; SQLAlchemy's begin event emits BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
