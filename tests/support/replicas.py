"""Several `promobot serve` replicas of one config (one PostgreSQL schema), each on its own port.

Every replica reads the same config; `PROMOBOT_PORT` gives each its own port. The first replica may use
the config's port (the one the sandbox's git hooks post to).

    group = Replicas(config, ports=[setup.port, free_port(), free_port()], logs=tmp_path)
    group.start_all()
    holder = group.wait_for_holder(30)
    holder.kill()                      # SIGKILL: no clean shutdown
    group.wait_for_holder(15, besides=holder)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from support.running import until

HOLDS = "this replica holds the duties lease"


class Replica:
    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.config, self.port, self.log = config, port, log
        self.base_url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # several replicas share the test server's max_connections (100): keep each one's pool small
        env = dict(os.environ, PYTHONUNBUFFERED="1", PROMOBOT_PORT=str(self.port), PROMOBOT_DB_POOL_SIZE="8")
        env.pop("PROMOBOT_CRASH_AT", None)
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "promobot", "serve", "--config", str(self.config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def healthy(self) -> bool:
        if not self.alive:
            raise AssertionError(f"replica on port {self.port} exited:\n{self.log_text()}")
        return httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def holds_duties(self) -> bool:
        return self.alive and HOLDS in self.log_text(tail=None)

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a lost node would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.alive and self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log_text(self, tail: int | None = 6000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text if tail is None else text[-tail:]


class Replicas:
    def __init__(self, config: Path, *, ports: list[int], logs: Path) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.members = [Replica(config, port, logs / f"replica-{i + 1}.log") for i, port in enumerate(ports)]

    def start_all(self, timeout: float = 60) -> None:
        for member in self.members:
            member.start()
        for member in self.members:
            until(member.healthy, timeout, f"replica on port {member.port} to answer /healthz")

    def stop_all(self) -> None:
        for member in self.members:
            member.stop()

    @property
    def alive(self) -> list[Replica]:
        return [m for m in self.members if m.alive]

    def wait_for_holder(self, timeout: float, *, besides: Replica | None = None) -> Replica:
        """The live replica whose log says it took the duties (other than `besides`)."""

        def holder() -> Replica | None:
            found = [m for m in self.alive if m is not besides and m.holds_duties()]
            assert len(found) <= 1, f"two replicas hold the duties at once: {[m.port for m in found]}"
            return found[0] if found else None

        found: Replica = until(holder, timeout, "a replica to take the duties", every=0.2)
        return found

    def log_text(self) -> str:
        return "\n".join(f"--- replica on {m.port} ---\n{m.log_text()}" for m in self.members)


class Api:
    """The REST API of any live replica, as one user (bearer token)."""

    def __init__(self, group: Replicas, token: str) -> None:
        self.group = group
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, *, replica: Replica | None = None, **kwargs: Any) -> httpx.Response:
        targets = [replica] if replica else self.group.alive
        last: Exception | None = None
        for target in targets:
            try:
                return httpx.request(method, target.base_url + path, headers=self.headers, timeout=30, **kwargs)
            except httpx.HTTPError as exc:
                last = exc
                time.sleep(0.05)
        raise AssertionError(f"no replica answered {method} {path}: {last}")

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def row(self, app: str, env: str) -> dict[str, Any]:
        rows = self.json("GET", "/api/list")
        return next(r for r in rows if r["app"] == app and r["env"] == env)
