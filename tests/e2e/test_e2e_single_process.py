"""SQLite is single-process: a second `promobot serve` on the same database is refused and changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.running import Setup

pytestmark = pytest.mark.slow


def test_a_second_serve_on_the_same_sqlite_database_is_refused_in_one_line(tmp_path: Path) -> None:
    setup = Setup(tmp_path / "sandbox")
    setup.start()
    try:
        second = subprocess.run(
            [sys.executable, "-m", "promobot", "serve", "--config", str(setup.config)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 1
        assert second.stderr.strip().splitlines() == [
            f"promobot: error: another promobot serve (pid {setup.process.pid if setup.process else '?'}) already "
            "works on this SQLite database; SQLite is single-process: stop that one, or use PostgreSQL "
            "(`database:`) for several replicas"
        ]
        assert setup.cli("list").returncode == 0  # the first one still serves
    finally:
        setup.stop()
    setup.start()  # and once it stopped, the lock is free again
    setup.stop()
