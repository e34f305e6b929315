"""A real OpenSSH server on 127.0.0.1 for git over SSH: a temporary host key, one authorized client key.

It runs as the current user, with its own config, and serves git's `git-upload-pack`/`git-receive-pack`
on any bare repository that user can read (`ssh://<user>@127.0.0.1:<port>/abs/path.git`). Run as root,
sshd needs its privilege separation directory, which the fixture creates as the ssh service would.
Skipped where openssh-server is not installed, except under CI=true.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"
PRIVSEP_DIR = Path("/run/sshd")


def missing() -> str | None:
    """Why no sshd can run here, or None."""
    if not Path(SSHD).exists() or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return "openssh-server (sshd) and openssh-client are not installed"
    return None


def keypair(path: Path) -> Path:
    """A fresh ed25519 key without a passphrase at `path` (and `path`.pub)."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True)
    return path


@dataclass
class SshServer:
    port: int
    user: str
    host_key: Path
    client_key: Path
    log: list[str]

    def url(self, bare: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{bare.resolve()}"

    def known_hosts_line(self) -> str:
        kind, key = self.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"[127.0.0.1]:{self.port} {kind} {key}\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def run(workdir: Path) -> Iterator[SshServer]:
    """sshd on a free loopback port for the length of the block, accepting `client_key` only."""
    workdir.mkdir(parents=True, exist_ok=True)
    host_key = keypair(workdir / "host_key")
    client_key = keypair(workdir / "client_key")
    authorized = workdir / "authorized_keys"
    authorized.write_text(client_key.with_suffix(".pub").read_text())
    port = _free_port()
    config = workdir / "sshd_config"
    config.write_text(
        "\n".join(
            [
                "ListenAddress 127.0.0.1",
                f"Port {port}",
                f'HostKey "{host_key}"',
                f'AuthorizedKeysFile "{authorized}"',
                f'PidFile "{workdir / "sshd.pid"}"',
                "StrictModes no",  # the key files live under the test's temporary directory
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "LogLevel VERBOSE",
                "",
            ]
        )
    )
    if os.geteuid() == 0:
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    process = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    )
    assert process.stderr is not None
    log: list[str] = []
    ready = threading.Event()
    listening = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            log.append(line.rstrip("\n"))
            if "Server listening on" in line:
                listening.set()
                ready.set()
        ready.set()  # sshd exited

    reader = threading.Thread(target=read, name="sshd-log", daemon=True)
    reader.start()
    try:
        ready.wait(timeout=20)
        if not listening.is_set():
            raise RuntimeError(f"sshd did not start: {' | '.join(log)}")
        yield SshServer(port=port, user=getpass.getuser(), host_key=host_key, client_key=client_key, log=log)
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=5)
