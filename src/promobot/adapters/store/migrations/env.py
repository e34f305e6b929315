"""Alembic environment: runs revisions on the connection `migrating.upgrade` hands over.

There is no alembic.ini; the configuration is built in code, and the connection (already inside a
transaction) arrives in `config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from promobot.adapters.store import tables


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("promobot runs migrations through SqlStore.migrate(), which passes a connection")
    context.configure(connection=connection, target_metadata=tables.metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
