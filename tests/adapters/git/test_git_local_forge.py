"""LocalForge against a real bare repository: pull requests as refs, opened once, merged by fast-forward."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from promobot.adapters import gitcli
from promobot.adapters.forge.local import LocalForge
from promobot.domain import errors

if TYPE_CHECKING:
    from conftest import Scratch


def ref(bare: Path, name: str) -> str | None:
    done = gitcli.run(["rev-parse", "--verify", "--quiet", name], git_dir=bare, check=False)
    return done.stdout.decode().strip() or None


@pytest.fixture
def forge(bare: Path) -> LocalForge:
    return LocalForge({"web": str(bare)})


@pytest.fixture
def promotion(scratch: Scratch) -> str:
    """prod at one commit, and a promotion branch one commit ahead of it."""
    prod = scratch.commit("prod", {"app.py": "v1"})
    gitcli.run(["push", "--quiet", "origin", f"{prod}:refs/heads/promote/prod-1"], cwd=scratch.dir)
    return scratch.commit("promote/prod-1", {"app.py": "v2"}, message="Promote to prod")


def open_pr(forge: LocalForge, head: str, branch: str = "promote/prod-1") -> tuple[int, str]:
    pr = forge.open_pull_request(
        app="web", branch=branch, base="prod", head_sha=head, title="Promote web to prod", body="details"
    )
    assert pr.head_sha == head
    return pr.number, pr.url


def test_opening_the_same_pull_request_twice_returns_the_first_one(
    forge: LocalForge, promotion: str, bare: Path
) -> None:
    first = open_pr(forge, promotion)
    again = open_pr(forge, promotion)

    assert first == again == (1, f"file://{bare.resolve()}#pull/1")
    assert ref(bare, "refs/pull/1/head") == promotion
    assert ref(bare, "refs/pull/2/head") is None
    pr = forge.pull_request(app="web", number=1)
    assert (pr.branch, pr.base, pr.title, pr.body, pr.merged) == (
        "promote/prod-1",
        "prod",
        "Promote web to prod",
        "details",
        False,
    )


def test_a_pull_request_for_another_branch_gets_the_next_number(
    forge: LocalForge, promotion: str, scratch: Scratch
) -> None:
    gitcli.run(["push", "--quiet", "origin", f"{promotion}:refs/heads/promote/prod-2"], cwd=scratch.dir)

    assert open_pr(forge, promotion)[0] == 1
    assert open_pr(forge, promotion, branch="promote/prod-2")[0] == 2


def test_merge_fast_forwards_the_base_and_records_the_merge(
    forge: LocalForge, promotion: str, bare: Path, scratch: Scratch
) -> None:
    number, _ = open_pr(forge, promotion)

    forge.merge_pull_request(app="web", number=number, base="prod", head_sha=promotion)
    forge.merge_pull_request(app="web", number=number, base="prod", head_sha=promotion)  # a retry: no change

    assert ref(bare, "refs/heads/prod") == promotion
    assert ref(bare, f"refs/pull/{number}/merged") == promotion
    assert forge.pull_request(app="web", number=number).merged
    assert open_pr(forge, promotion)[0] == number + 1  # a merged pull request is not reopened
    later = scratch.commit("prod", {"later.txt": "after the merge"})
    forge.merge_pull_request(app="web", number=number, base="prod", head_sha=promotion)
    assert ref(bare, "refs/heads/prod") == later


def test_merge_after_the_base_moved_raises_a_temporary_error_and_changes_nothing(
    forge: LocalForge, promotion: str, scratch: Scratch, bare: Path
) -> None:
    number, _ = open_pr(forge, promotion)
    hotfix = scratch.commit("prod", {"hotfix.txt": "urgent"})

    with pytest.raises(errors.TemporaryError, match="prod moved"):
        forge.merge_pull_request(app="web", number=number, base="prod", head_sha=promotion)

    assert ref(bare, "refs/heads/prod") == hotfix
    assert ref(bare, f"refs/pull/{number}/merged") is None


def test_bad_names_unknown_apps_and_unknown_pull_requests_are_refused(
    forge: LocalForge, promotion: str
) -> None:
    with pytest.raises(errors.InvalidReference):
        open_pr(forge, promotion, branch="--upload-pack=x")
    with pytest.raises(errors.UnknownApp):
        forge.merge_pull_request(app="api", number=1, base="prod", head_sha=promotion)
    with pytest.raises(errors.UnknownOperation):
        forge.merge_pull_request(app="web", number=7, base="prod", head_sha=promotion)
    with pytest.raises(errors.PermanentError):
        open_pr(forge, "f" * 40)
