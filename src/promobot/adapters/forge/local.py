"""The embedded forge (ports.Forge): pull requests kept as refs in each app's bare repository.

Pull request n is `refs/pull/<n>/head` (the promotion commit), `refs/pull/<n>/meta` (a JSON blob: branch,
base, title, body) and, once merged, `refs/pull/<n>/merged`. Merging fast-forwards the base branch with a
compare-and-swap, so a base that moved meanwhile is detected rather than overwritten.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from promobot import ports
from promobot.adapters import gitcli
from promobot.domain import errors
from promobot.domain.artifacts import FULL_SHA

BRANCH = re.compile(r"^(?!.*\.\.)(?!.*//)[A-Za-z0-9_](?:[A-Za-z0-9_./-]{0,99}[A-Za-z0-9_])?$")
ZERO = "0" * 40


@dataclass(frozen=True)
class LocalPullRequest:
    number: int
    url: str
    head_sha: str
    branch: str
    base: str
    title: str
    body: str
    merged: bool


class LocalForge:
    def __init__(self, remotes: Mapping[str, str]) -> None:
        self.remotes = {app: Path(path).resolve() for app, path in remotes.items()}
        self._locks = {app: threading.Lock() for app in self.remotes}

    def open_pull_request(
        self, *, app: str, branch: str, base: str, head_sha: str, title: str, body: str
    ) -> ports.PullRequest:
        repo = self._repo(app)
        _check(branch=branch, base=base, sha=head_sha)
        with self._locks[app]:
            if gitcli.run(["cat-file", "-e", f"{head_sha}^{{commit}}"], git_dir=repo, check=False).returncode:
                raise errors.PermanentError(f"commit {head_sha[:7]} is not in {app}'s repository; push it first")
            for number, sha in self._heads(repo).items():
                if sha != head_sha:
                    continue
                found = self._get(repo, number, sha)
                if found.branch == branch and found.base == base and not found.merged:
                    return ports.PullRequest(number, found.url, sha)
            meta = json.dumps({"branch": branch, "base": base, "title": title, "body": body}).encode()
            blob = gitcli.out(["hash-object", "-w", "--stdin"], git_dir=repo, input=meta)
            number = max(self._numbers(repo), default=0) + 1
            while not _create(repo, f"refs/pull/{number}/meta", blob):  # another process took it
                number += 1
            gitcli.run(["update-ref", f"refs/pull/{number}/head", head_sha, ZERO], git_dir=repo)
            return ports.PullRequest(number, _url(repo, number), head_sha)

    def merge_pull_request(self, *, app: str, number: int, base: str, head_sha: str) -> None:
        repo = self._repo(app)
        _check(branch=base, base=base, sha=head_sha)
        with self._locks[app]:
            pr = self.pull_request(app=app, number=number)
            if pr.head_sha != head_sha or pr.base != base:
                raise errors.PermanentError(
                    f"pull request #{number} is {pr.branch} into {pr.base} at {pr.head_sha[:7]}"
                )
            current = _ref(repo, f"refs/heads/{base}")
            if pr.merged and current is not None and _is_ancestor(repo, head_sha, current):
                return  # merged earlier; base has moved on since
            if current != head_sha:
                if current is not None and not _is_ancestor(repo, current, head_sha):
                    raise errors.TemporaryError(f"{base} moved since pull request #{number} was opened; re-reading")
                done = gitcli.run(
                    ["update-ref", f"refs/heads/{base}", head_sha, current or ZERO], git_dir=repo, check=False
                )
                if done.returncode:
                    raise errors.TemporaryError(f"{base} moved while merging pull request #{number}; re-reading")
            gitcli.run(["update-ref", f"refs/pull/{number}/merged", head_sha], git_dir=repo)

    def review_state(self, app: str, number: int) -> ports.ReviewState:
        """No approvals of its own: promobot's approvals (through chat and the CLI) are the only ones."""
        pull = self.pull_request(app=app, number=number)
        return ports.ReviewState(
            approvals=[], required=0, head_sha=pull.head_sha, merged=pull.merged, mergeable=True, url=pull.url
        )

    def pull_request(self, *, app: str, number: int) -> LocalPullRequest:
        """One pull request with its metadata; UnknownOperation if there is none with that number."""
        repo = self._repo(app)
        sha = _ref(repo, f"refs/pull/{int(number)}/head")
        if sha is None:
            raise errors.UnknownOperation(f"{app} has no pull request #{number}")
        return self._get(repo, int(number), sha)

    def _get(self, repo: Path, number: int, sha: str) -> LocalPullRequest:
        raw = gitcli.run(["cat-file", "blob", f"refs/pull/{number}/meta"], git_dir=repo, check=False).stdout
        meta = json.loads(raw or b"{}")
        merged = _ref(repo, f"refs/pull/{number}/merged") is not None
        fields = {key: str(meta.get(key, "")) for key in ("branch", "base", "title", "body")}
        return LocalPullRequest(number=number, url=_url(repo, number), head_sha=sha, merged=merged, **fields)

    def _heads(self, repo: Path) -> dict[int, str]:
        text = gitcli.out(["for-each-ref", "--format=%(objectname) %(refname)", "refs/pull/"], git_dir=repo)
        heads = {}
        for line in text.splitlines():
            sha, _, ref = line.partition(" ")
            parts = ref.split("/")
            if len(parts) == 4 and parts[2].isdigit() and parts[3] == "head":
                heads[int(parts[2])] = sha
        return dict(sorted(heads.items()))

    def _numbers(self, repo: Path) -> list[int]:
        text = gitcli.out(["for-each-ref", "--format=%(refname)", "refs/pull/"], git_dir=repo)
        return [int(ref.split("/")[2]) for ref in text.splitlines() if ref.split("/")[2].isdigit()]

    def _repo(self, app: str) -> Path:
        if app not in self.remotes:
            raise errors.UnknownApp(f"no repository for app {app!r} in the local forge")
        return self.remotes[app]


def _check(*, branch: str, base: str, sha: str) -> None:
    for name in (branch, base):
        if not BRANCH.match(name) or any(part.startswith(("-", ".")) for part in name.split("/")):
            raise errors.InvalidReference(f"{name!r} is not an allowed branch name")
    if not FULL_SHA.match(sha):
        raise errors.InvalidReference(f"{sha!r} is not a full commit SHA")


def _ref(repo: Path, ref: str) -> str | None:
    done = gitcli.run(["rev-parse", "--verify", "--quiet", "--end-of-options", ref], git_dir=repo, check=False)
    return done.stdout.decode().strip() or None


def _create(repo: Path, ref: str, sha: str) -> bool:
    """Create `ref` at `sha` unless it exists (atomically); whether it was created."""
    return gitcli.run(["update-ref", ref, sha, ZERO], git_dir=repo, check=False).returncode == 0


def _is_ancestor(repo: Path, ancestor: str, sha: str) -> bool:
    args = ["merge-base", "--is-ancestor", "--end-of-options", ancestor, sha]
    return gitcli.run(args, git_dir=repo, check=False).returncode == 0


def _url(repo: Path, number: int) -> str:
    return f"file://{repo}#pull/{number}"
