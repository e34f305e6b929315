"""The local runtime's child processes: started with a log and a pid file, stopped SIGTERM-then-SIGKILL.

Each child runs in its own session (its pid is its process group), so stopping it reaches anything it
spawned. The pid file (JSON: pid and argv) lets a later promobot kill children left behind when this one
died without stopping them; a pid is only killed when /proc/<pid>/cmdline still shows that argv.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

GRACE_SECONDS = 5.0


@dataclass(eq=False)
class Child:
    popen: subprocess.Popen[bytes]
    argv: list[str]
    log: Path
    pid_file: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def spawn(argv: list[str], *, cwd: Path, env: Mapping[str, str], log_file: Path, pid_file: Path) -> Child:
    """Start `argv` in `cwd` with exactly `env`, output appended to `log_file`, and write its pid file."""
    with log_file.open("ab") as output:
        popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file.write_text(json.dumps({"pid": popen.pid, "argv": argv}), encoding="utf-8")
    return Child(popen=popen, argv=argv, log=log_file, pid_file=pid_file)


def stop(children: Iterable[Child], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM each child's process group, SIGKILL those still up after `grace`, reap, drop pid files."""
    children = list(children)
    for child in children:
        if child.popen.poll() is None:
            _signal_group(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.popen.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("pid %d ignored SIGTERM for %.0fs; sending SIGKILL", child.pid, grace)
            _signal_group(child.pid, signal.SIGKILL)
            child.popen.wait()
        child.pid_file.unlink(missing_ok=True)


def exit_summary(child: Child) -> str:
    """How the child ended, with the last line it wrote: e.g. "exited with status 1: KeyError: 'PORT'"."""
    code = child.popen.poll()
    if code is None:
        return "is still running"
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    last = last_line(child.log)
    return f"exited with status {code}: {last}" if last else f"exited with status {code}"


def last_line(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 4096))
            lines = [line.strip() for line in handle.read().decode(errors="replace").splitlines()]
    except OSError:
        return ""
    return next((line for line in reversed(lines) if line), "")


def kill_stale(workdir: Path, grace: float = GRACE_SECONDS) -> list[int]:
    """Kill the processes named by pid files under `workdir/<env>/<app>/` that still run their argv."""
    killed = []
    for pid_file in sorted(workdir.glob("*/*/*.pid")):
        try:
            record = json.loads(pid_file.read_text(encoding="utf-8"))
            pid, argv = int(record["pid"]), [str(arg) for arg in record["argv"]]
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("ignoring unreadable pid file %s", pid_file)
        else:
            if _cmdline(pid) == argv:
                log.warning("stopping pid %d left running by a previous promobot (%s)", pid, pid_file)
                _signal_group(pid, signal.SIGTERM)
                deadline = time.monotonic() + grace
                while _cmdline(pid) == argv and time.monotonic() < deadline:
                    time.sleep(0.05)
                if _cmdline(pid) == argv:
                    _signal_group(pid, signal.SIGKILL)
                killed.append(pid)
        pid_file.unlink(missing_ok=True)
    return killed


def _cmdline(pid: int) -> list[str] | None:
    """The argv of a live process; None when it is gone (a zombie has an empty cmdline)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    parts = [os.fsdecode(part) for part in raw.split(b"\0")]
    return parts[:-1] if parts and parts[-1] == "" and len(parts) > 1 else None


def _signal_group(pid: int, signum: signal.Signals) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)
