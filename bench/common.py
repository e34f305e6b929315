"""Shared helpers of the benchmark scripts: the smoke switch, figures printed as `name: value unit`, stats.

Every script prints its figures on stdout, one per line; `bench/run.py` collects them into results.json.
A figure that cannot be measured yet is printed as `name: not measurable yet: <reason>`, never faked.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMOKE = os.environ.get("BENCH_SMOKE") == "1"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the sandbox runner and fresh databases


def size(full: int, smoke: int) -> int:
    """`full` normally, `smoke` under BENCH_SMOKE=1."""
    return smoke if SMOKE else full


def emit(name: str, value: float, unit: str) -> None:
    text = f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}" if value else "0"
    print(f"{name}: {text} {unit}", flush=True)


def note(name: str, text: str) -> None:
    """A line that is not a figure (a target, a method detail); run.py keeps it as text."""
    print(f"{name}: {text}", flush=True)


def not_yet(name: str, reason: str) -> None:
    print(f"{name}: not measurable yet: {reason}", flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 200 samples is the 198th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


def ms(seconds: float) -> float:
    return seconds * 1000.0


def timed(action: Callable[[], object]) -> float:
    """Seconds `action` took (wall clock)."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"promobot-bench-{prefix}-") as path:
        yield Path(path)


def git(*args: str, cwd: Path | None = None, git_dir: Path | None = None, input: bytes | None = None) -> str:
    """Plain `git`, as a shell script would run it (the baseline side of a comparison)."""
    argv = ["git"] + (["--git-dir", str(git_dir)] if git_dir else []) + list(args)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="bench@localhost",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="bench@localhost",
        LC_ALL="C",
    )
    done = subprocess.run(argv, cwd=cwd, input=input, capture_output=True, env=env, check=True)
    return done.stdout.decode().rstrip("\n")


def postgresql_url() -> str:
    return os.environ.get("PROMOBOT_TEST_DATABASE_URL", "").strip() or PG_DEFAULT


def rss_mb(pid: int) -> float:
    """Resident set of process `pid` in MB, from /proc/<pid>/status VmRSS."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS for {pid}")


@contextmanager
def profiled(pid: int, name: str) -> Iterator[None]:
    """With BENCH_PROFILE=DIR (and py-spy in the venv), sample process `pid` into DIR/<name>.txt (collapsed
    stacks) for the duration of the block; `bench/profile_summary.py DIR/<name>.txt` sums it up."""
    where = os.environ.get("BENCH_PROFILE")
    spy = Path(sys.executable).parent / "py-spy"
    if not where or not spy.exists():
        yield
        return
    Path(where).mkdir(parents=True, exist_ok=True)
    out = Path(where) / f"{name}.txt"
    sampler = subprocess.Popen(
        [str(spy), "record", "-p", str(pid), "-r", "250", "-f", "raw", "-o", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        sampler.send_signal(2)  # SIGINT: py-spy writes what it sampled and exits
        sampler.wait(30)
