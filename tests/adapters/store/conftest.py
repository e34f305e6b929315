"""Fixtures for the store tests: every test runs once on SQLite and once on PostgreSQL.

PostgreSQL needs PROMOBOT_TEST_DATABASE_URL (see tests/support/databases.py): skipped without it, failed
without it in CI.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[2]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from store_samples import ManualClock  # noqa: E402

from promobot.adapters.store.sql import SqlStore  # noqa: E402
from support import databases  # noqa: E402


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
