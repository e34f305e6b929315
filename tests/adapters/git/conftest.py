"""Real bare repositories in tmp_path, a scratch clone that plays "someone else" pushing to them, and
the same repositories behind a real git smart-HTTP server (Basic auth) and a real sshd, both on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from promobot.adapters import gitcli
from support import git_http, ssh_server
from support.git_http import GitHttpServer

USERNAME = "x-access-token"
TOKEN = "ghs_Right0Token0For0Tests0Zq9"


def git(*args: str, cwd: Path | None = None, input: str | None = None) -> str:
    done = gitcli.run(list(args), cwd=cwd, input=input.encode() if input is not None else None)
    return done.stdout.decode().strip()


class Scratch:
    """A working clone of a bare repository: commit files on a branch and push them."""

    def __init__(self, bare: Path, where: Path) -> None:
        self.bare = bare
        self.dir = where
        git("clone", "--quiet", str(bare), str(where))

    def commit(self, branch: str, files: Mapping[str, str | None], message: str = "change") -> str:
        """Commit `files` (None deletes) on top of the remote `branch` (or of nothing) and push it."""
        git("fetch", "--quiet", "origin", cwd=self.dir)
        exists = git("ls-remote", "origin", f"refs/heads/{branch}", cwd=self.dir)
        if exists:
            git("checkout", "--quiet", "-B", branch, f"origin/{branch}", cwd=self.dir)
        else:
            git("checkout", "--quiet", "--orphan", branch, cwd=self.dir)
            git("rm", "-rf", "--quiet", "--ignore-unmatch", ".", cwd=self.dir)
        for name, text in files.items():
            path = self.dir / name
            if text is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
        git("add", "-A", cwd=self.dir)
        git("commit", "--quiet", "--allow-empty", "-m", message, cwd=self.dir)
        git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", cwd=self.dir)
        return git("rev-parse", "HEAD", cwd=self.dir)

    def remote_head(self, ref: str) -> str | None:
        line = git("ls-remote", str(self.bare), ref)
        return line.split("\t")[0] if line else None

    def show(self, ref_and_path: str) -> str:
        return git("--git-dir", str(self.bare), "show", ref_and_path)


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    path = tmp_path / "remote" / "web.git"
    git("init", "--quiet", "--bare", str(path))
    return path


@pytest.fixture
def scratch(bare: Path, tmp_path: Path) -> Scratch:
    return Scratch(bare, tmp_path / "scratch")


@pytest.fixture
def http_remote(bare: Path) -> Iterator[GitHttpServer]:
    """The bare repository (and its siblings) over git's smart HTTP, for `x-access-token` and TOKEN only."""
    with git_http.serve(GitHttpServer(bare.parent, username=USERNAME, token=TOKEN)) as server:
        yield server


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[ssh_server.SshServer]:
    """A real sshd on loopback; skipped where openssh-server is missing (not under CI=true)."""
    reason = ssh_server.missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} on CI")
        pytest.skip(reason)
    with ssh_server.run(tmp_path / "ssh keys") as server:  # a space in the paths: quoting is tested too
        yield server
