"""One application repository (ports.AppRepo) through a warm bare mirror: read, commit without a working
tree, and push with a lease so a concurrent push by someone else is detected, never overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from promobot import ports
from promobot.adapters import gitcli
from promobot.adapters.git import commits, credentials, names
from promobot.adapters.git.mirror import Mirror
from promobot.domain import errors

COUNT_CACHE = 4096
LOG = ("log", "--no-color", "--no-show-signature", commits.FORMAT)


class GitAppRepo:
    def __init__(self, remote: str, mirror: Path, *, credential: credentials.Credential | None = None) -> None:
        self.mirror = Mirror(remote, mirror, credential=credential)
        self._counts: dict[tuple[str, str], int] = {}

    def refresh(self) -> None:
        with self.mirror.locked():
            self.mirror.fetch()

    def branch_head(self, branch: str) -> str | None:
        ref = f"refs/heads/{names.branch(branch)}"
        with self.mirror.locked():
            return self.mirror.ref(ref)

    def resolve(self, prefix: str) -> list[str]:
        names.sha_prefix(prefix)
        with self.mirror.locked():
            done = self.mirror.git(["rev-parse", f"--disambiguate={prefix}"], check=False)
            candidates = done.stdout.decode().split()
            if not candidates:
                return []
            kinds = self.mirror.out(
                ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                input="".join(f"{c}\n" for c in candidates).encode(),
            )
            shas = [line.split()[0] for line in kinds.splitlines() if line.endswith(" commit")]
            return sorted(sha for sha in shas if self._published(sha))

    def _published(self, sha: str) -> bool:
        """Whether a branch or tag of the remote reaches `sha` (not a local commit that was never pushed)."""
        found = self.mirror.out(["for-each-ref", "--count=1", f"--contains={sha}", "refs/heads", "refs/tags"])
        return bool(found)

    def commit(self, sha: str) -> ports.Commit:
        names.sha(sha)
        with self.mirror.locked():
            text = self._log(["--max-count=1", "--no-walk", "--end-of-options", sha])
        return commits.parse(text)[0]

    def find_by_trailer(self, branch: str, key: str, value: str, *, depth: int = 200) -> str | None:
        ref = f"refs/heads/{names.branch(branch)}"
        args = ["--first-parent", f"--max-count={int(depth)}", "--end-of-options", ref]
        with self.mirror.locked():
            done = self.mirror.git([*LOG, *args, "--"], check=False)
            if done.returncode != 0:
                if self.mirror.ref(ref) is None:  # one process in the common case; a second only to tell why
                    return None
                raise gitcli.GitFailed(["log", *args], done.stderr.decode(errors="replace"), done.returncode)
        for found in commits.parse(done.stdout.decode()):
            if found.trailers.get(key) == value:
                return found.sha
        return None

    def create_commit(self, *, tree_of: str, parents: Sequence[str], message: str) -> str:
        names.sha(tree_of)
        args = ["commit-tree"]
        for parent in parents:
            args += ["-p", names.sha(parent)]
        with self.mirror.locked():  # `<sha>^{tree}`: commit-tree peels it itself (no rev-parse first)
            return self.mirror.out([*args, "-F", "-", f"{tree_of}^{{tree}}"], input=message.encode())

    def push_branch(self, branch: str, sha: str, *, expected: str | None) -> None:
        ref = f"refs/heads/{names.branch(branch)}"
        names.sha(sha)
        if expected is not None:
            names.sha(expected)
        with self.mirror.locked():
            if not self.mirror.push(sha, ref, lease=expected or ""):
                self.mirror.fetch()
                if self.mirror.ref(ref) == sha:
                    return  # an earlier attempt (or someone else) already put it there
                raise errors.TemporaryError(f"someone moved {branch} first; re-reading", retry_after=0.5)
            self.mirror.git(["update-ref", ref, sha])

    def push_tag(self, tag: str, sha: str) -> str:
        ref = f"refs/tags/{names.tag(tag)}"
        names.sha(sha)
        with self.mirror.locked():
            # Push first with a "must not exist" lease: the usual case costs one push and no round trip.
            if self.mirror.push(sha, ref, lease=""):
                self.mirror.git(["update-ref", ref, sha])
                return sha
            existing = self.mirror.remote_ref(ref)
            if existing is None:
                raise errors.TemporaryError(f"the remote refused tag {tag}; retrying", retry_after=1.0)
            self.mirror.fetch()
            return existing

    def delete_branch(self, branch: str) -> None:
        ref = f"refs/heads/{names.branch(branch)}"
        with self.mirror.locked():
            current = self.mirror.remote_ref(ref)
            if current is not None and not self.mirror.push("", ref, lease=current):
                raise errors.TemporaryError(f"someone moved {branch} first; re-reading", retry_after=0.5)
            self.mirror.git(["update-ref", "-d", ref], check=False)

    def log(self, base: str, head: str, *, limit: int) -> tuple[list[ports.Commit], int]:
        span = f"{names.sha(base)}..{names.sha(head)}"
        with self.mirror.locked():
            total = self._count(base, head)
            if limit <= 0:
                return [], total
            text = self._log([f"--max-count={int(limit)}", "--end-of-options", span])
        return commits.parse(text), total

    def _count(self, base: str, head: str) -> int:
        """Commits in `head` but not `base`. One walk counts both ways (`diff` asks for both), and the
        answer for two commit ids never changes, so it is kept (a bounded cache; the mirror lock is held).
        """
        if (base, head) not in self._counts:
            if len(self._counts) >= COUNT_CACHE:
                self._counts.clear()
            left, right = self.mirror.out(
                ["rev-list", "--left-right", "--count", "--end-of-options", f"{base}...{head}"]
            ).split()
            self._counts[(head, base)], self._counts[(base, head)] = int(left), int(right)
        return self._counts[(base, head)]

    def changed_files(self, base: str, head: str) -> list[str]:
        names.sha(base)
        names.sha(head)
        with self.mirror.locked():
            out = self.mirror.out(["diff", "--name-only", "--no-renames", "-z", "--end-of-options", base, head])
        return [path for path in out.split("\0") if path]

    def _log(self, args: Sequence[str]) -> str:
        return self.mirror.out([*LOG, *args, "--"])
