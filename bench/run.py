"""`make bench`: run every benchmark script, print its lines, and collect the figures in bench/out/results.json.

Each script runs as its own process (a crash or a leak in one does not colour the next). A script that
fails is recorded with its exit code and the tail of its stderr; run.py then exits 1.
BENCH_SMOKE=1 makes every benchmark tiny (CI runs that to keep the scripts working; no timing is judged).
Not every script in bench/ is a benchmark: chat_ack_inprocess.py is a profiling aid for benchmark 1 (run it
directly), profile_summary.py reads py-spy's output, and the rest are shared helpers.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = Path(os.environ.get("BENCH_OUT") or HERE / "out" / "results.json")  # BENCH_OUT: elsewhere (tests)

# key in results.json -> script; the numbering.
BENCHMARKS = {
    "1_chat_ack": "chat_ack.py",
    "2_promotion_overhead": "promotion_overhead.py",
    "3_end_to_end": "end_to_end.py",
    "4_list": "list_api.py",
    "5_diff": "diff.py",
    "6_webhook_ingest": "webhook_ingest.py",
    "7_rollback_lookup": "rollback_lookup.py",
    "8_memory": "memory.py",
}
FIGURE = re.compile(r"^([a-z0-9_.]+): (-?[0-9.]+(?:e[-+]?[0-9]+)?) (\S+)$")
TEXT = re.compile(r"^([a-z0-9_.]+): (.*)$")
NOT_YET = "not measurable yet: "


def machine() -> dict[str, object]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:")
    )
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_mb": mem_kb // 1024,
        "python": platform.python_version(),
        "git": git,
        "kernel": platform.release(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],  # a shared machine shows here
    }


def parse(stdout: str) -> dict[str, object]:
    figures: dict[str, object] = {}
    for line in stdout.splitlines():
        if match := FIGURE.match(line):
            figures[match[1]] = {"value": float(match[2]), "unit": match[3]}
        elif match := TEXT.match(line):
            text = match[2]
            figures[match[1]] = {"not_measurable": text[len(NOT_YET) :]} if text.startswith(NOT_YET) else {"text": text}
    return figures


def run_one(script: str) -> dict[str, object]:
    start = time.monotonic()
    done = subprocess.run([sys.executable, str(HERE / script)], capture_output=True, text=True, check=False)
    sys.stdout.write(done.stdout)
    sys.stdout.flush()
    result: dict[str, object] = {
        "script": f"bench/{script}",
        "exit": done.returncode,
        "seconds": round(time.monotonic() - start, 1),
        "figures": parse(done.stdout),
    }
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-15:]
        result["error"] = "\n".join(tail)
        print(f"{script}: FAILED (exit {done.returncode})\n" + "\n".join(tail), file=sys.stderr)
    return result


def main() -> int:
    smoke = os.environ.get("BENCH_SMOKE") == "1"
    only = set(sys.argv[1:])
    results: dict[str, object] = {}
    for key, script in BENCHMARKS.items():
        if only and key not in only and script not in only:
            continue
        print(f"# {key} ({script})", flush=True)
        results[key] = run_one(script)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "smoke": smoke,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "benchmarks": results,
    }
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"# wrote {OUT}")
    failed = [key for key, r in results.items() if isinstance(r, dict) and r.get("exit") != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
