"""Fresh, isolated databases for tests: SQLite in a temporary directory, PostgreSQL in a new schema.

PostgreSQL is used when `PROMOBOT_TEST_DATABASE_URL` names a server (e.g.
`postgresql+psycopg://postgres@127.0.0.1:5432/test`). Without it the PostgreSQL half is skipped, except
in CI (`CI=true`), where it fails: CI must never pass by silently testing less.

    from support import databases

    @pytest.fixture(params=databases.KINDS)
    def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
        with databases.fresh(request.param, tmp_path) as url:
            yield url

Each PostgreSQL URL points at its own schema `t_<random>` (through libpq's `options=-csearch_path=...`),
dropped with everything in it when the block ends. Dispose of engines built on the URL before that.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

ENV = "PROMOBOT_TEST_DATABASE_URL"
SQLITE = "sqlite"
POSTGRESQL = "postgresql"
KINDS = (SQLITE, POSTGRESQL)


def sqlite_url(directory: Path) -> str:
    """A URL for a new SQLite file in `directory` (the directory is made; the file on first connection)."""
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'promobot.db'}"


def postgresql_base_url() -> str:
    """The server named by PROMOBOT_TEST_DATABASE_URL; skips the test, or fails it in CI, when unset."""
    url = os.environ.get(ENV, "").strip()
    if not url:
        reason = f"{ENV} is not set: PostgreSQL tests need a server"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}, and CI must run them", pytrace=False)
        pytest.skip(reason)
    return url


@contextmanager
def postgresql_schema(base_url: str) -> Iterator[str]:
    """A URL whose connections use a brand-new schema; the schema is dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base_url, poolclass=NullPool)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def fresh(kind: str, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty database of `kind` (`"sqlite"` or `"postgresql"`), valid inside the block."""
    if kind == SQLITE:
        yield sqlite_url(tmp_path)
    elif kind == POSTGRESQL:
        with postgresql_schema(postgresql_base_url()) as url:
            yield url
    else:
        raise ValueError(f"unknown database kind {kind!r}; use one of {KINDS}")
