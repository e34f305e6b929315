"""Fixtures for the store tests: every test runs once on SQLite and once on PostgreSQL.

PostgreSQL needs PROMOBOT_TEST_DATABASE_URL (see tests/support/databases.py): skipped without it, failed
without it in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_samples import ManualClock

from promobot.adapters.store.sql import SqlStore
from support import databases


@pytest.fixture(params=databases.KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with databases.fresh(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(database_url: str, clock: ManualClock) -> Iterator[SqlStore]:
    store = SqlStore(database_url, clock=clock)
    store.migrate()
    yield store
    store.dispose()
