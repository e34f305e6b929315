"""Running Alembic programmatically: the script location lives inside this package, no alembic.ini.

On PostgreSQL a transaction-scoped advisory lock makes concurrent `migrate()` calls (several replicas
starting at once) take turns; on SQLite `BEGIN IMMEDIATE` does the same. Within one process, Alembic's
migration context is module-global, so upgrades of different databases from two threads take turns too.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

SCRIPTS = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 0x70726F6D6F  # "promo": the advisory lock id for migrations
_IN_PROCESS = threading.Lock()  # alembic.context is a module-level proxy: one upgrade at a time per process


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = config()
    with _IN_PROCESS, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
