"""Running promobot for end-to-end tests: a sandbox, `promobot serve` as a real process, the CLI, git."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from promobot.sandbox import create


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail the test naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


class Setup:
    """A sandbox on disk plus the `promobot serve` process running it."""

    def __init__(
        self,
        root: Path,
        database_url: str | None = None,
        apps: tuple[str, ...] = ("web",),
        envs: tuple[str, ...] = ("development", "qa", "staging", "prod"),
    ) -> None:
        self.port = free_port()
        self.sandbox = create.sandbox(root, apps=list(apps), envs=list(envs), port=self.port)
        self.root = self.sandbox.root
        self.config = self.sandbox.config
        if database_url:
            settings = yaml.safe_load(self.config.read_text())
            settings["database"] = database_url
            self.config.write_text(yaml.safe_dump(settings, sort_keys=False))
        self.process: subprocess.Popen[bytes] | None = None
        self.start_timeout = 30.0  # seconds for /healthz to answer after a start
        self.logs: list[Path] = []
        self.base_url = f"http://127.0.0.1:{self.port}"

    # --- the server -------------------------------------------------------------------------------
    def start(self, crash_at: str | None = None) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("PROMOBOT_CRASH_AT", None)
        if crash_at:
            env["PROMOBOT_CRASH_AT"] = crash_at
        log = self.root / f"serve-{len(self.logs) + 1}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "promobot", "serve", "--config", str(self.config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        until(self._healthy, self.start_timeout, "promobot serve to answer /healthz")

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"promobot serve exited with {self.process.returncode}:\n{self.log_text()}")
        return httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200

    def wait_exit(self, timeout: float = 30) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log_text(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-6000:] for path in self.logs if path.exists())

    # --- the CLI ----------------------------------------------------------------------------------
    def cli(self, *args: str, user: str = "developer") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "promobot", *args, "--config", str(self.config), "--as", user],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def cli_json(self, *args: str, user: str = "developer") -> Any:
        done = self.cli(*args, "--json", user=user)
        assert done.returncode == 0, f"promobot {' '.join(args)} failed: {done.stderr}\n{self.log_text()}"
        return json.loads(done.stdout)

    def row(self, env: str, app: str = "web") -> dict[str, Any]:
        rows = self.cli_json("list")
        return next(r for r in rows if r["app"] == app and r["env"] == env)

    # --- git, as a developer and as an observer -----------------------------------------------------
    def bare(self, app: str = "web") -> Path:
        return self.root / "git" / f"{app}.git"

    def git(self, *args: str, cwd: Path | None = None, app: str = "web") -> str:
        argv = ["git", *args] if cwd else ["git", "--git-dir", str(self.bare(app)), *args]
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=True, env=_git_env())
        return done.stdout.strip()

    def clone(self, app: str = "web") -> Path:
        work = self.root / "work" / app
        self.git("clone", "--quiet", "--branch", "develop", str(self.bare(app)), str(work), cwd=self.root)
        return work

    def push(self, work: Path, message: str, files: dict[str, str | None]) -> str:
        for name, text in files.items():
            if text is None:
                (work / name).unlink()
            else:
                (work / name).write_text(text)
        self.git("add", "--all", cwd=work)
        self.git("commit", "--quiet", "-m", message, cwd=work)
        self.git("push", "--quiet", "origin", "HEAD:develop", cwd=work)
        return self.git("rev-parse", "HEAD", cwd=work)


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="Dana Developer",
        GIT_AUTHOR_EMAIL="dana@example.test",
        GIT_COMMITTER_NAME="Dana Developer",
        GIT_COMMITTER_EMAIL="dana@example.test",
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def serves(url: str, revision: str) -> bool:
    """Whether the sample app at `url` says it was built from `revision`."""
    try:
        return f"source revision: {revision}" in httpx.get(url, timeout=2).text
    except httpx.HTTPError:
        return False
