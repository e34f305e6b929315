"""A real bare git remote with `develop` and `qa` commits for the builder tests (named apart from conftest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from promobot.adapters import gitcli
from promobot.domain import trailers

COMMAND = ["python3", "-m", "http.server", "8080"]


@dataclass
class Remote:
    """A bare repository and a scratch clone that pushes commits into it, one second apart."""

    bare: Path
    clone: Path
    clock: int = 1_714_564_800  # 2024-05-01T12:00:00Z
    heads: dict[str, str] = field(default_factory=dict)

    def git(self, *args: str) -> str:
        when = f"@{self.clock} +0200"
        return gitcli.out(list(args), cwd=self.clone, extra_env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})

    def commit(self, branch: str, files: dict[str, str], message: str = "change") -> str:
        """Commit `files` on top of `branch` (created from the current checkout if new) and push it."""
        self.git("checkout", "--quiet", "-B", branch, *([self.heads[branch]] if branch in self.heads else []))
        for name, text in files.items():
            path = self.clone / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.git("add", "--all")
        return self._commit_and_push(branch, message)

    def promote(self, source: str, branch: str) -> str:
        """A promotion commit on `branch`: exactly the tree of `source`, with a Promobot-Source trailer."""
        base = self.heads.get(branch, source)
        self.git("checkout", "--quiet", "-B", branch, base)
        self.git("read-tree", "--reset", "-u", source)
        message = trailers.render(f"Promote {source[:7]} to {branch}", {trailers.SOURCE: source})
        return self._commit_and_push(branch, message)

    def _commit_and_push(self, branch: str, message: str) -> str:
        self.clock += 1
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        self.git("push", "--quiet", "origin", branch)
        self.heads[branch] = self.git("rev-parse", "HEAD")
        return self.heads[branch]
