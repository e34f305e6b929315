"""Running Alembic programmatically: the script location lives inside this package, no alembic.ini.

On PostgreSQL a transaction-scoped advisory lock makes concurrent `migrate()` calls (several replicas
starting at once) take turns; on SQLite `BEGIN IMMEDIATE` does the same.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

SCRIPTS = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 0x70726F6D6F  # "promo": the advisory lock id for migrations


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
