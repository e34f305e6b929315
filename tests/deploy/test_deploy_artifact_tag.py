"""deploy/ci/artifact-tag.sh against a real git repository: with and without the Promobot-Source trailer."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "deploy" / "ci" / "artifact-tag.sh"
ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}  # fmt: skip


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=ENV, capture_output=True, text=True, check=True).stdout.strip()


def tag(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(SCRIPT), *args], cwd=repo, env=ENV, capture_output=True, text=True, check=False)


def outputs(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "develop")
    (tmp_path / "app.py").write_text("print('v1')\n")
    git(tmp_path, "add", "app.py")
    git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def test_a_develop_commit_is_tagged_with_its_own_short_sha(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    assert outputs(tag(repo, "dev")) == {"tag": f"dev-{head[:7]}", "source": head, "revision": head}


def test_a_promotion_commit_is_tagged_with_its_source_commit(repo: Path) -> None:
    source = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "qa")
    message = f"Promote web:dev-{source[:7]}\n\nPromobot-Source: {source}\nPromobot-Artifact: web:qa-{source[:7]}\n"
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    head = git(repo, "rev-parse", "HEAD")
    assert outputs(tag(repo, "qa")) == {"tag": f"qa-{source[:7]}", "source": source, "revision": head}
    assert outputs(tag(repo, "qa", "HEAD~1"))["tag"] == f"qa-{source[:7]}"


def test_a_malformed_trailer_fails_rather_than_guessing(repo: Path) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "odd\n\nPromobot-Source: not-a-sha\n")
    done = tag(repo, "qa")
    assert done.returncode == 1 and "not a full commit id" in done.stderr


@pytest.mark.parametrize("prefix", ["", "-x", "QA", "qa/x"])
def test_a_bad_prefix_is_refused(repo: Path, prefix: str) -> None:
    assert tag(repo, prefix).returncode == 2


def test_an_unknown_or_option_like_commit_is_refused(repo: Path) -> None:
    assert tag(repo, "dev", "nope").returncode == 2
    assert tag(repo, "dev", "--all").returncode == 2
