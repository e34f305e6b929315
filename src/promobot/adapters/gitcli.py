"""Running git: argv lists only, never a shell, with a clean environment and clear failures.

Shared by the git, forge and builder adapters. Callers put `--end-of-options` before any ref that did
not come from promobot itself.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from promobot.domain import errors

# Identity and settings that make promobot's commits reproducible and independent of the host's config.
BASE_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_AUTHOR_NAME": "promobot",
    "GIT_AUTHOR_EMAIL": "promobot@localhost",
    "GIT_COMMITTER_NAME": "promobot",
    "GIT_COMMITTER_EMAIL": "promobot@localhost",
    "LC_ALL": "C",
}


class GitFailed(errors.PermanentError):
    """A git command exited non-zero; `stderr` holds what it said."""

    def __init__(self, args: Sequence[str], stderr: str, returncode: int) -> None:
        first = (stderr.strip().splitlines() or ["(no output)"])[-1]
        super().__init__(f"git {args[0] if args else ''} failed: {first}")
        self.args_ = list(args)
        self.stderr = stderr
        self.returncode = returncode


def env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    merged = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    merged.update(BASE_ENV)
    merged["HOME"] = merged.get("HOME", "/nonexistent")
    if extra:
        merged.update(extra)
    return merged


def run(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    git_dir: Path | None = None,
    input: bytes | None = None,
    extra_env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 120.0,
) -> subprocess.CompletedProcess[bytes]:
    """Run `git <args>`; raise GitFailed on a non-zero exit when `check`."""
    argv = ["git"]
    if git_dir is not None:
        argv += ["--git-dir", str(git_dir)]
    argv += list(args)
    done = subprocess.run(
        argv, cwd=cwd, input=input, capture_output=True, env=env(extra_env), timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise GitFailed(args, done.stderr.decode(errors="replace"), done.returncode)
    return done


def out(args: Sequence[str], **kwargs: object) -> str:
    """stdout of `git <args>` as text, stripped of the final newline."""
    return run(args, **kwargs).stdout.decode().rstrip("\n")  # type: ignore[arg-type]
