"""Running git: argv lists only, never a shell, with a clean environment and clear failures.

Shared by the git, forge and builder adapters. Callers put `--end-of-options` before any ref that did
not come from promobot itself.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
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


# `scheme://user:password@host`: what a URL's credentials look like in git's messages.
USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"]*@")
# Git's closing advice after a failed ssh connection: true of every failure, so never the reason.
ADVICE = ("please make sure you have the correct access rights", "and the repository exists.")
HIDDEN = "***"


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the credentials of any URL in it and without any of `secrets`."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return USERINFO.sub(rf"\1{HIDDEN}@", text)


def reason(stderr: str, secrets: Iterable[str] = ()) -> str:
    """The one line of git's stderr that says why it failed, scrubbed.

    After an ssh failure git ends with "fatal: Could not read from remote repository." and advice; the
    line ssh wrote before that (host key, permission denied) is the reason.
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    lines = [line for line in lines if line.lower() not in ADVICE]
    for index, line in enumerate(lines):
        if line.startswith("fatal: Could not read from remote repository") and index > 0:
            return scrub(lines[index - 1], secrets)
    return scrub(lines[-1], secrets) if lines else "(no output)"


class GitFailed(errors.PermanentError):
    """A git command exited non-zero; `stderr` holds what it said (scrubbed of credentials)."""

    def __init__(self, args: Sequence[str], stderr: str, returncode: int, *, secrets: Iterable[str] = ()) -> None:
        secrets = tuple(secrets)
        super().__init__(f"git {args[0] if args else ''} failed: {reason(stderr, secrets)}")
        self.args_ = list(args)
        self.stderr = scrub(stderr, secrets)
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
    secrets: Iterable[str] = (),
    check: bool = True,
    timeout: float = 120.0,
) -> subprocess.CompletedProcess[bytes]:
    """Run `git <args>`; raise GitFailed on a non-zero exit when `check`.

    `extra_env` reaches this git process only (credentials travel there, never on argv); `secrets` are
    the values its failure text must not show.
    """
    argv = ["git"]
    if git_dir is not None:
        argv += ["--git-dir", str(git_dir)]
    argv += list(args)
    done = subprocess.run(
        argv, cwd=cwd, input=input, capture_output=True, env=env(extra_env), timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise GitFailed(args, done.stderr.decode(errors="replace"), done.returncode, secrets=secrets)
    return done


def out(args: Sequence[str], **kwargs: object) -> str:
    """stdout of `git <args>` as text, stripped of the final newline."""
    return run(args, **kwargs).stdout.decode().rstrip("\n")  # type: ignore[arg-type]
