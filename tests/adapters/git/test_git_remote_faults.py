"""A git remote that goes away: promobot's app repository says so as a temporary error, and recovers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from promobot.adapters.git.app_repo import GitAppRepo
from promobot.domain import errors

if TYPE_CHECKING:
    from conftest import Scratch


def test_an_unreachable_remote_is_a_temporary_error_naming_the_fetch_and_it_recovers(
    bare: Path, scratch: Scratch, tmp_path: Path
) -> None:
    first = scratch.commit("develop", {"app.py": "v1"})
    repo = GitAppRepo(str(bare), tmp_path / "mirror.git")
    repo.refresh()
    moved = tmp_path / "elsewhere.git"
    shutil.move(bare, moved)  # the remote disappears (a volume unmounted, a host down)

    with pytest.raises(errors.TemporaryError, match="could not fetch from the git remote: ") as raised:
        repo.refresh()
    assert raised.value.retry_after >= 1.0
    assert repo.branch_head("develop") == first  # what was fetched stays readable

    shutil.move(moved, bare)
    second = scratch.commit("develop", {"app.py": "v2"})
    repo.refresh()
    assert repo.branch_head("develop") == second
