"""`promobot lock`, `unlock`, `locks` and `audit` against a real `promobot serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.running import Setup


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    made = Setup(tmp_path / "sandbox")
    made.start()
    yield made
    made.stop()


def test_the_cli_locks_lists_unlocks_and_shows_the_audit_log(setup: Setup) -> None:
    locked = setup.cli("lock", "qa", "--reason", "release 4.2", user="release-manager")
    again = setup.cli("lock", "qa")
    listed = setup.cli_json("locks")
    unlocked = setup.cli("unlock", "qa", user="release-manager")
    audit = [e for e in setup.cli_json("audit", "--limit", "200") if e["action"] == "command"]
    mine = setup.cli_json("audit", "--actor", "developer")
    table = setup.cli("audit", "--actor", "release-manager", "--limit", "1")

    assert locked.returncode == 0, locked.stderr
    assert "qa is locked by release-manager since" in locked.stdout and "(release 4.2)" in locked.stdout
    assert again.returncode == 1
    assert again.stderr.startswith("promobot: error: qa is locked by release-manager since ")
    assert [(lock["env"], lock["reason"]) for lock in listed] == [("qa", "release 4.2")]
    assert unlocked.returncode == 0 and "qa is unlocked" in unlocked.stdout
    assert [(e["actor"], e["subject"], e["outcome"]) for e in audit] == [
        ("release-manager", "unlock qa", "accepted"),
        ("developer", "lock qa", "refused"),
        ("release-manager", "lock qa release 4.2", "accepted"),
    ]
    assert [e["outcome"] for e in mine] == ["refused"]
    assert table.returncode == 0 and "unlock qa" in table.stdout
