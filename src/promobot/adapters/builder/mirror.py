"""A warm bare mirror of one app's remote, from which the builder reads commits and their trees.

Every git call goes through `gitcli` (argv lists, no shell). Not thread-safe on its own: the builder
holds one lock per app around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from promobot.adapters import gitcli
from promobot.domain import errors

_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    message: str
    committed_at: datetime  # the committer date, in UTC


class Mirror:
    def __init__(self, path: Path, remote: str) -> None:
        self.path = path
        self.remote = remote

    def ensure(self) -> None:
        """Create the bare mirror and point its `origin` at the remote, once."""
        if (self.path / "HEAD").is_file():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        gitcli.run(["init", "--quiet", "--bare", "--", str(self.path)])
        gitcli.run(["remote", "add", "--", "origin", self.remote], git_dir=self.path)

    def fetch(self) -> None:
        gitcli.run(["fetch", "--quiet", "--prune", "origin", "+refs/heads/*:refs/heads/*"], git_dir=self.path)

    def commit(self, revision: str) -> str:
        """The full SHA of `revision` (a hex prefix), fetching from the remote when the mirror lacks it."""
        self.ensure()
        sha = self._resolve(revision)
        if sha is None:
            self.fetch()
            sha = self._resolve(revision)
        if sha is None:
            raise errors.PermanentError(
                f"commit {revision} is not in {self.remote}", "push it to an environment branch first"
            )
        return sha

    def info(self, sha: str) -> CommitInfo:
        text = gitcli.out(["show", "-s", "--format=%ct%n%B", "--end-of-options", sha], git_dir=self.path)
        stamp, _, message = text.partition("\n")
        return CommitInfo(sha=sha, message=message, committed_at=datetime.fromtimestamp(int(stamp), UTC))

    def archive(self, sha: str, prefix: str) -> bytes:
        """A tar of the commit's tree, every path under `prefix` (e.g. `app/`)."""
        return gitcli.run(
            ["archive", "--format=tar", f"--prefix={prefix}", "--end-of-options", sha], git_dir=self.path
        ).stdout

    def _resolve(self, revision: str) -> str | None:
        done = gitcli.run(
            ["rev-parse", "--quiet", "--verify", "--end-of-options", f"{revision}^{{commit}}"],
            git_dir=self.path,
            check=False,
        )
        sha = done.stdout.decode().strip()
        return sha if done.returncode == 0 and _FULL_SHA.match(sha) else None
