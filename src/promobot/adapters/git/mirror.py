"""A warm bare mirror of one remote: created once, fetched on demand, pushed from with a lease.

Shared by the application and GitOps repositories. One lock per mirror directory (a thread lock plus a
file lock, so two threads or two processes never fetch into the same mirror at once). Commands that talk
to the remote get the remote's credential in their environment only (`credentials.access`), and their
failures are scrubbed of it.
"""

from __future__ import annotations

import fcntl
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from promobot.adapters import gitcli
from promobot.adapters.git import credentials, names
from promobot.domain import errors

REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
ZERO = "0" * 40


class _PathLock:
    """The lock of one mirror directory, shared by every Mirror object on it in this process."""

    def __init__(self) -> None:
        self.rlock = threading.RLock()
        self.depth = 0


_locks: dict[Path, _PathLock] = {}
_locks_guard = threading.Lock()


def _path_lock(path: Path) -> _PathLock:
    with _locks_guard:
        return _locks.setdefault(path, _PathLock())


class Mirror:
    def __init__(self, remote: str, path: Path, *, credential: credentials.Credential | None = None) -> None:
        self.remote = names.remote(remote)
        self.credential = credential
        self.path = Path(path).resolve()
        self._lock = _path_lock(self.path)
        self._ready = False

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the mirror (re-entrant within a thread); creates and fetches it on first use."""
        with self._lock.rlock:
            self._lock.depth += 1
            try:
                if self._lock.depth > 1:
                    yield
                    return
                self.path.mkdir(parents=True, exist_ok=True)
                with open(self.path / "promobot.lock", "a") as handle:
                    fcntl.flock(handle, fcntl.LOCK_EX)
                    if not self._ready:
                        self._ensure()
                    yield
            finally:
                self._lock.depth -= 1

    def _ensure(self) -> None:
        if not (self.path / "HEAD").exists():
            gitcli.run(["init", "--quiet", "--bare", str(self.path)])
        url = self.git(["config", "--get", "remote.origin.url"], check=False).stdout.decode().strip()
        if not url:
            self.git(["remote", "add", "origin", self.remote])
        elif url != self.remote:
            self.git(["remote", "set-url", "origin", self.remote])
        self.fetch()  # once per process: a mirror left from last run (or a failed first fetch) is stale
        self._ready = True

    def git(self, args: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        return gitcli.run(args, git_dir=self.path, **kwargs)  # type: ignore[arg-type]

    def out(self, args: Sequence[str], **kwargs: object) -> str:
        return self.git(args, **kwargs).stdout.decode().rstrip("\n")

    def remote_git(
        self, args: Sequence[str], **kwargs: object
    ) -> tuple[subprocess.CompletedProcess[bytes], credentials.Access]:
        """Run a git command that talks to the remote, with its credential; also what to scrub on failure."""
        reach = credentials.access(self.credential, self.remote)
        done = self.git(args, extra_env=reach.env, secrets=reach.secrets, **kwargs)
        return done, reach

    def fetch(self) -> None:
        # fetch.writeCommitGraph: each fetch that brings commits extends the mirror's commit-graph, so
        # `log`/`rev-list` walks (diff, find_by_trailer) read generation numbers instead of parsing commits.
        args = ["-c", "fetch.writeCommitGraph=true", "fetch", "--quiet", "--prune", "--no-tags", "origin"]
        done, reach = self.remote_git([*args, *REFSPECS], check=False)
        if done.returncode != 0:
            reason = gitcli.reason(done.stderr.decode(errors="replace"), reach.secrets)
            raise errors.TemporaryError(f"could not fetch from the git remote: {reason}", retry_after=5.0)

    def ref(self, ref: str) -> str | None:
        """The commit `ref` (a full ref name built by promobot) points at in the mirror, or None."""
        done = self.git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], check=False)
        return done.stdout.decode().strip() or None

    def push(self, src: str, dst: str, *, lease: str | None, force: bool = True) -> bool:
        """Push `src` to the remote ref `dst`; False when the remote refused it (someone got there first).

        `lease`: the sha `dst` must still have, "" for "must not exist", None for no lease.
        """
        args = ["push", "--porcelain", "--quiet"]
        if lease is not None:
            args.append(f"--force-with-lease={dst}:{lease}")
        elif force:
            args.append("--force")
        done, reach = self.remote_git([*args, "origin", f"{src}:{dst}"], check=False)
        if done.returncode == 0:
            return True
        if any(line.startswith("!") for line in done.stdout.decode(errors="replace").splitlines()):
            return False
        raise gitcli.GitFailed(args, done.stderr.decode(errors="replace"), done.returncode, secrets=reach.secrets)

    def remote_ref(self, ref: str) -> str | None:
        """What the remote's `ref` points at now (peeled to the commit for tags), or None."""
        done, _ = self.remote_git(["ls-remote", "--end-of-options", "origin", ref, f"{ref}^{{}}"])
        text = done.stdout.decode()
        found: dict[str, str] = {}
        for line in text.splitlines():
            sha, _, name = line.partition("\t")
            found[name] = sha
        return found.get(f"{ref}^{{}}") or found.get(ref)
