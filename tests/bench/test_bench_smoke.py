"""The benchmark scripts keep working: `bench/run.py` under BENCH_SMOKE=1 runs every benchmark tiny.

Benchmarks are not tests: nothing here judges a timing, only that every script ran and reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import databases

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {
    "1_chat_ack": ["chat_ack_p50", "chat_ack_p99", "chat_ack_answered"],
    "2_promotion_overhead": ["promotion_promobot_median", "promotion_plain_git_median", "promotion_ratio"],
    "3_end_to_end": ["end_to_end_push_to_healthy_median", "end_to_end_promote_to_healthy_median"],
    "4_list": [f"list_{db}_{kind}_p99" for db in ("sqlite", "postgresql") for kind in ("unchanged", "changed")],
    "5_diff": ["diff_promobot_median", "diff_git_cli_median", "diff_ratio"],
    "6_webhook_ingest": ["webhook_ingest_rate", "webhook_ingest_lost"],
    "7_rollback_lookup": ["rollback_lookup_ms", "rollback_history_query_ms", "rollback_registry_head_ms"],
    "8_memory": ["memory_serve_rss_started", "memory_serve_rss_after_list"],
}


def test_make_bench_smoke_runs_every_benchmark_and_writes_results_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = dict(
        os.environ,
        BENCH_SMOKE="1",
        BENCH_OUT=str(out),
        PROMOBOT_TEST_DATABASE_URL=databases.postgresql_base_url(),  # skipped without PostgreSQL, except in CI
    )
    env.pop("BENCH_PROFILE", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, f"bench/run.py failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    report = json.loads(out.read_text())
    assert report["smoke"] is True
    assert {"nproc", "cpu", "memory_mb"} <= set(report["machine"])
    for key, figures in EXPECTED.items():
        bench = report["benchmarks"][key]
        assert bench["exit"] == 0
        assert set(figures) <= set(bench["figures"]), f"{key} is missing figures: {bench['figures']}"
    for key, figure in (("1_chat_ack", "chat_ack_p99"), ("7_rollback_lookup", "rollback_lookup_ms")):
        assert report["benchmarks"][key]["figures"][figure]["value"] > 0, f"{key} measures now, it is not a placeholder"
