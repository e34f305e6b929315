"""`promobot demo`: the whole story on one machine, narrated.

Creates a sandbox, starts `promobot serve` as a child process, and walks an artifact from a push to
`develop` to `prod` through promotion, approval, a broken build and a rollback, saying what happens.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from promobot import config
from promobot.adapters import gitcli
from promobot.client import ApiError, Client
from promobot.domain import errors
from promobot.sandbox import create


class Story:
    def __init__(self, root: Path, out: Console) -> None:
        self.root = root
        self.out = out
        self.started = time.monotonic()
        self.sandbox = create.sandbox(root, apps=["web"], envs=["development", "qa", "staging", "prod"], port=_free())
        loaded = config.load(str(self.sandbox.config))
        self.dev = Client.for_user(loaded, "developer")
        self.rm = Client.for_user(loaded, "release-manager")
        self.work = root / "work" / "web"
        self.server: subprocess.Popen[bytes] | None = None

    def say(self, text: str) -> None:
        self.out.print(f"[dim]{time.monotonic() - self.started:5.1f}s[/] {text}")

    def start_server(self) -> None:
        log = open(self.root / "serve.log", "wb")  # noqa: SIM115 - the child writes to it until stopped
        self.server = subprocess.Popen(
            [sys.executable, "-m", "promobot", "serve", "--config", str(self.sandbox.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._until(lambda: _answers(self.dev.base_url + "/healthz"), 20, "the server to start")
        self.say(f"promobot serve is up at {self.dev.base_url} (log: {self.root / 'serve.log'})")

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(20)
            except subprocess.TimeoutExpired:
                self.server.kill()

    def row(self, env: str) -> dict[str, Any]:
        return next(r for r in self.dev.board() if r["app"] == "web" and r["env"] == env)

    def wait_env(self, env: str, source: str, state: str = "healthy", timeout: float = 30) -> dict[str, Any]:
        def ready() -> bool:
            row = self.row(env)
            return bool(row["source_revision"] == source and row["state"] == state)

        self._until(ready, timeout, f"{env} to be {state} with {source[:7]}")
        return self.row(env)

    def push(self, message: str, files: dict[str, str | None]) -> str:
        for name, text in files.items():
            path = self.work / name
            if text is None:
                path.unlink()
            else:
                path.write_text(text, encoding="utf-8")
        gitcli.run(["add", "--all"], cwd=self.work)
        gitcli.run(["commit", "--quiet", "-m", message], cwd=self.work)
        gitcli.run(["push", "--quiet", "origin", "HEAD:develop"], cwd=self.work)
        return gitcli.out(["rev-parse", "HEAD"], cwd=self.work)

    def _until(self, check: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server is not None and self.server.poll() is not None:
                raise errors.PermanentError(f"the server stopped; see {self.root / 'serve.log'}")
            try:
                if check():
                    return
            except (ApiError, httpx.HTTPError):
                pass
            time.sleep(0.2)
        raise errors.PermanentError(f"timed out waiting for {what}; see {self.root / 'serve.log'}")


def run(root: Path, out: Console) -> None:
    if root.exists():
        if not (root / "promobot.yaml").exists():
            raise errors.ConfigError(f"{root} exists and is not an earlier demo", "pass another directory")
        shutil.rmtree(root)
    story = Story(root, out)
    try:
        _walk(story)
    finally:
        story.stop_server()
        story.say("server stopped; the sandbox stays in place: " + str(story.sandbox.config))


def _walk(s: Story) -> None:
    s.say(f"created a sandbox in {s.root}: git repositories, an OCI registry, SQLite, tokens, a config")
    s.start_server()
    gitcli.run(["clone", "--quiet", "--branch", "develop", str(s.root / "git" / "web.git"), str(s.work)])
    first = gitcli.out(["rev-parse", "HEAD"], cwd=s.work)
    row = s.wait_env("development", first)
    s.say(f"the first commit of develop was built and deployed: {row['artifact']} is healthy at {row['url']}")

    change = s.push("Say hello in version 2", {"VERSION": "2\n"})
    s.say(f"a developer pushed {change[:7]} to develop; the builder makes web:dev-{change[:7]} ...")
    row = s.wait_env("development", change)
    s.say(f"development now serves {row['artifact']}: {_body(row['url'])}")

    op = s.dev.wait(s.dev.promote(row["artifact"], None)["id"])
    s.say(f"developer: promote {row['artifact']} (no environment = the next one) -> operation {op['id']} {op['state']}")
    s.say(f"  {op['message']}")
    qa = s.row("qa")
    s.say(f"qa's branch now holds the same tree; CI built {qa['artifact']}")

    op = s.dev.promote(qa["artifact"], "prod")
    op = s.dev.wait(op["id"])
    s.say(f"developer: promote {qa['artifact']} prod -> operation {op['id']} is {op['state']}: {op['message']}")
    try:
        s.dev.approve(op["id"])
    except ApiError as exc:
        s.say(f"developer tries to approve their own promotion: refused: {exc}")
    s.rm.approve(op["id"])
    op = s.dev.wait(op["id"])
    s.say(f"release-manager approves; the pull request is merged -> {op['state']}: {op['message']}")

    broken = s.push("Ship a broken build", {"BROKEN": "this build fails its health check\n"})
    s.say(f"a developer pushed {broken[:7]}, whose health check fails ...")
    failed = s.wait_env("development", broken, state="failed")
    s.say(f"development: {failed['artifact']} failed; the previous version keeps serving: {_body(row['url'])}")

    op = s.dev.wait(s.dev.rollback("web", "development")["id"])
    s.say(f"developer: rollback web development -> {op['state']}: {op['message']}")

    s.out.print()
    s.say("promobot list:")
    from promobot.cli import render

    render.board(s.out, s.dev.board())
    s.say("promobot diff development prod:")
    for result in s.dev.diff("development", "prod", "web"):
        render.diff(s.out, result)
    s.say(f"done in {time.monotonic() - s.started:.0f}s")


def _body(url: str) -> str:
    try:
        text = httpx.get(url, timeout=5).text
    except httpx.HTTPError as exc:
        return f"(no answer: {exc})"
    return " / ".join(line for line in text.splitlines() if line.startswith("artifact"))


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _free() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
