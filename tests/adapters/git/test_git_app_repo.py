"""GitAppRepo against a real bare remote: promotion commits, leased pushes, tags, history and lookups."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from promobot.adapters import gitcli
from promobot.adapters.git.app_repo import GitAppRepo
from promobot.domain import errors, trailers

if TYPE_CHECKING:
    from conftest import Scratch


def git(*args: str, cwd: Path | None = None, input: bytes | None = None) -> str:
    return gitcli.out(list(args), cwd=cwd, input=input)


@pytest.fixture
def repo(bare: Path, tmp_path: Path) -> GitAppRepo:
    return GitAppRepo(str(bare), tmp_path / "mirror" / "web.git")


def promote(repo: GitAppRepo, source: str, branch: str, head: str | None) -> str:
    parents = [head, source] if head else [source]
    message = trailers.render(f"Promote {source[:7]} to {branch}", {trailers.SOURCE: source})
    return repo.create_commit(tree_of=source, parents=parents, message=message)


def test_promotion_commit_has_the_source_tree_both_parents_and_readable_trailers(
    repo: GitAppRepo, scratch: Scratch
) -> None:
    source = scratch.commit("develop", {"app.py": "v2", "lib/x.py": "x"})
    qa = scratch.commit("qa", {"app.py": "v1", "old.txt": "gone after promotion"})
    repo.refresh()
    message = trailers.render("Promote", {trailers.SOURCE: source, trailers.ARTIFACT: "web:dev-1"})

    sha = repo.create_commit(tree_of=source, parents=[qa, source], message=message)
    repo.push_branch("qa", sha, expected=qa)

    assert scratch.remote_head("refs/heads/qa") == sha
    assert repo.branch_head("qa") == sha
    commit = repo.commit(sha)
    assert commit.tree == repo.commit(source).tree
    assert commit.parents == (qa, source)
    assert commit.trailers == {trailers.SOURCE: source, trailers.ARTIFACT: "web:dev-1"}
    assert git("--git-dir", str(scratch.bare), "ls-tree", "-r", "--name-only", "qa").split() == [
        "app.py",
        "lib/x.py",
    ]


def test_push_is_refused_when_someone_pushed_first_and_nothing_changes(
    repo: GitAppRepo, scratch: Scratch
) -> None:
    source = scratch.commit("develop", {"app.py": "v2"})
    qa = scratch.commit("qa", {"app.py": "v1"})
    repo.refresh()
    sha = promote(repo, source, "qa", qa)
    theirs = scratch.commit("qa", {"hotfix.txt": "someone else"})

    with pytest.raises(errors.TemporaryError, match="someone moved qa first"):
        repo.push_branch("qa", sha, expected=qa)

    assert scratch.remote_head("refs/heads/qa") == theirs
    assert repo.branch_head("qa") == theirs


def test_push_with_no_expected_head_creates_the_branch_only_if_it_is_absent(
    repo: GitAppRepo, scratch: Scratch
) -> None:
    source = scratch.commit("develop", {"app.py": "v1"})
    repo.refresh()
    sha = promote(repo, source, "prod", None)

    repo.push_branch("promote/prod-1", sha, expected=None)
    repo.push_branch("promote/prod-1", sha, expected=None)  # a retry after a crash changes nothing
    other = promote(repo, sha, "prod", sha)

    assert scratch.remote_head("refs/heads/promote/prod-1") == sha
    with pytest.raises(errors.TemporaryError):
        repo.push_branch("promote/prod-1", other, expected=None)
    repo.delete_branch("promote/prod-1")
    assert scratch.remote_head("refs/heads/promote/prod-1") is None
    assert repo.branch_head("promote/prod-1") is None


def test_push_tag_is_idempotent_and_never_moves_an_existing_tag(repo: GitAppRepo, scratch: Scratch) -> None:
    first = scratch.commit("develop", {"app.py": "v1"})
    second = scratch.commit("develop", {"app.py": "v2"})
    repo.refresh()

    assert repo.push_tag("qa/1a2b3c4", first) == first
    assert repo.push_tag("qa/1a2b3c4", first) == first
    assert repo.push_tag("qa/1a2b3c4", second) == first
    assert scratch.remote_head("refs/tags/qa/1a2b3c4") == first


def test_find_by_trailer_returns_the_newest_first_parent_match(repo: GitAppRepo, scratch: Scratch) -> None:
    one = scratch.commit("develop", {"app.py": "v1"})
    two = scratch.commit("develop", {"app.py": "v2"})
    repo.refresh()
    head = None
    for source in (one, two, one):
        sha = promote(repo, source, "qa", head)
        repo.push_branch("qa", sha, expected=head)
        head = sha

    assert repo.find_by_trailer("qa", trailers.SOURCE, one) == head
    assert repo.find_by_trailer("qa", trailers.SOURCE, two) == repo.commit(head).parents[0]
    assert repo.find_by_trailer("qa", trailers.SOURCE, "0" * 40) is None
    assert repo.find_by_trailer("qa", trailers.SOURCE, one, depth=0) is None
    assert repo.find_by_trailer("staging", trailers.SOURCE, one) is None
    assert repo.find_by_trailer("develop", trailers.SOURCE, one) is None  # second parents are not walked


def test_log_lists_newest_first_up_to_the_limit_and_counts_them_all(
    repo: GitAppRepo, scratch: Scratch
) -> None:
    base = scratch.commit("develop", {"app.py": "v0"})
    made = [scratch.commit("develop", {"app.py": f"v{n}"}, message=f"change {n}") for n in range(1, 6)]
    repo.refresh()

    commits, total = repo.log(base, made[-1], limit=3)

    assert total == 5
    assert [c.sha for c in commits] == made[::-1][:3]
    assert [c.subject for c in commits] == ["change 5", "change 4", "change 3"]
    assert commits[0].author == "promobot"
    assert repo.log(made[-1], made[-1], limit=3) == ([], 0)


def test_changed_files_lists_added_changed_removed_and_renamed_paths(
    repo: GitAppRepo, scratch: Scratch
) -> None:
    base = scratch.commit("develop", {"app.py": "v1", "old.txt": "a", "keep.txt": "same", "b.txt": "bbbb"})
    head = scratch.commit(
        "develop", {"app.py": "v2", "old.txt": None, "new/c.txt": "c", "b.txt": None, "b2.txt": "bbbb"}
    )
    repo.refresh()

    assert sorted(repo.changed_files(base, head)) == ["app.py", "b.txt", "b2.txt", "new/c.txt", "old.txt"]
    assert repo.changed_files(head, head) == []


def _commit_object(tree: str, parent: str, message: str) -> tuple[str, bytes]:
    who = "promobot <promobot@localhost> 1700000000 +0000"
    body = f"tree {tree}\nparent {parent}\nauthor {who}\ncommitter {who}\n\n{message}\n".encode()
    return hashlib.sha1(b"commit %d\0" % len(body) + body).hexdigest(), body


def test_resolve_finds_one_commit_several_when_ambiguous_and_none_when_unknown(
    repo: GitAppRepo, scratch: Scratch
) -> None:
    base = scratch.commit("develop", {"app.py": "v1"})
    tree = git("rev-parse", "HEAD^{tree}", cwd=scratch.dir)
    first, data = _commit_object(tree, base, "first")
    git("hash-object", "-t", "commit", "-w", "--stdin", cwd=scratch.dir, input=data)
    n = 0
    while True:  # a second commit on top of the first whose id starts with the same 4 hex digits
        second, data = _commit_object(tree, first, f"second {n}")
        if second[:4] == first[:4]:
            break
        n += 1
    git("hash-object", "-t", "commit", "-w", "--stdin", cwd=scratch.dir, input=data)
    git("push", "--quiet", "origin", f"{second}:refs/heads/feature", cwd=scratch.dir)
    repo.refresh()
    unpushed = promote(repo, base, "qa", None)

    assert repo.resolve(base[:7]) == [base]
    assert repo.resolve(base) == [base]
    assert repo.resolve(first[:4]) == sorted([first, second])
    assert repo.resolve(second) == [second]
    assert repo.resolve("0000000000000000000000000000000000000000") == []
    assert repo.resolve(tree[:8]) == []  # a tree is not a commit
    assert repo.resolve(unpushed) == []  # a commit no branch or tag of the remote reaches
    with pytest.raises(errors.InvalidReference):
        repo.resolve("xyz!")


@pytest.mark.parametrize("bad", ["--output=x", "-b", "qa/-x", "qa..prod", "HEAD", "qa.lock", ""])
def test_a_ref_that_looks_like_an_option_is_refused_before_git_runs(
    repo: GitAppRepo, bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))  # running git now would fail differently
    sha = "a" * 40

    with pytest.raises(errors.InvalidReference):
        repo.branch_head(bad)
    with pytest.raises(errors.InvalidReference):
        repo.push_branch(bad, sha, expected=None)
    with pytest.raises(errors.InvalidReference):
        repo.push_tag(bad, sha)
    with pytest.raises(errors.InvalidReference):
        repo.find_by_trailer(bad, trailers.SOURCE, sha)
    with pytest.raises(errors.InvalidReference):
        repo.commit(bad)
    with pytest.raises(errors.InvalidReference):
        repo.log(bad, sha, limit=1)
    with pytest.raises(errors.InvalidReference):
        repo.changed_files(sha, bad)
    with pytest.raises(errors.InvalidReference):
        repo.create_commit(tree_of=sha, parents=[bad], message="x")
    assert not (tmp_path / "x").exists()
