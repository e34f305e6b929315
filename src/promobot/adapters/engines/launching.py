"""Start an unpacked image the way its config says, on this machine, with a fresh port.

The image's `Cmd` runs in its `WorkingDir` with its `Env`, plus PORT, and PATH and HOME from promobot's own
environment. A `python`/`python3` command runs on promobot's interpreter (`sys.executable`), so the sandbox
needs no other Python. Output goes to a log file in the image's directory, the pid file beside it.
"""

from __future__ import annotations

import os
import sys

from promobot.adapters.engines import processes, unpacking

PYTHONS = {"python", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}"}
LOG_NAME = ".promobot-run.log"
FROM_HOST = ("PATH", "HOME")


def launch(unpacked: unpacking.Unpacked) -> tuple[processes.Child, str]:
    """Start it; returns the child and the base url it should serve on."""
    port = processes.free_port()
    argv = list(unpacked.argv)
    if argv[0] in PYTHONS:
        argv[0] = sys.executable
    env = {**unpacked.env, "PORT": str(port)}
    env.update({name: os.environ[name] for name in FROM_HOST if name in os.environ})
    child = processes.spawn(
        argv,
        cwd=unpacked.cwd,
        env=env,
        log_file=unpacked.root / LOG_NAME,
        pid_file=unpacked.root.with_name(unpacked.root.name + ".pid"),
    )
    return child, f"http://127.0.0.1:{port}/"
