"""The local runtime cleans up its processes: on stop, and those a killed promobot left behind."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from conftest import PinBoard, Reports, answers
from engine_images import build_image

from promobot.adapters.engines.local import LocalRuntime
from promobot.domain.deployments import Health

RUN_UNTIL_KILLED = """
import sys, time
from pathlib import Path
from promobot.adapters.engines.local import LocalRuntime
from promobot.domain.deployments import Pin

registry, workdir, digest = sys.argv[1:4]
def report(event):
    if event.state == "healthy":
        print(event.url, flush=True)
runtime = LocalRuntime(
    pins=lambda: {("qa", "web"): Pin("web", "qa-1", digest)}, images={"web": "web"},
    registry_root=Path(registry), workdir=Path(workdir), report=report, poll_seconds=0.2, health_timeout=3,
)
runtime.start()
time.sleep(60)
"""


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_stop_leaves_no_child_process(
    make_runtime: Callable[..., LocalRuntime], registry: Path, pins: PinBoard, reports: Reports
) -> None:
    web = build_image(registry, "web", "qa-1", source_revision="1111111")
    api = build_image(registry, "api", "qa-1", source_revision="3333333")
    broken = build_image(registry, "web", "dev-1", source_revision="4444444", broken=True)
    pins.pin("qa", "web", web)
    pins.pin("qa", "api", api)
    pins.pin("development", "web", broken)
    runtime = make_runtime()
    urls = [reports.wait(Health.HEALTHY, web).url, reports.wait(Health.HEALTHY, api).url]
    reports.wait(Health.PROGRESSING, broken)  # its health check is still going on
    assert len(children_of(os.getpid())) == 3

    runtime.stop()

    assert children_of(os.getpid()) == []
    assert not any(answers(url) for url in urls)
    assert runtime.status("qa", "web") is None


def test_processes_left_by_a_killed_promobot_are_stopped_at_start(
    make_runtime: Callable[..., LocalRuntime], registry: Path, tmp_path: Path
) -> None:
    digest = build_image(registry, "web", "qa-1", source_revision="1111111")
    workdir = tmp_path / "run"
    old = subprocess.Popen(
        [sys.executable, "-c", RUN_UNTIL_KILLED, str(registry), str(workdir), digest],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert old.stdout is not None
        ready, _, _ = select.select([old.stdout], [], [], 15)
        assert ready, "the first promobot never reported its app healthy"
        url = old.stdout.readline().strip()
    finally:
        old.send_signal(signal.SIGKILL)
        old.wait()
        if old.stdout is not None:
            old.stdout.close()
    assert answers(url)  # the app outlived the promobot that started it
    assert list(workdir.glob("qa/web/*.pid"))

    make_runtime(workdir=workdir, pins=lambda: {})

    assert not answers(url)
    assert list(workdir.glob("qa/web/*.pid")) == []


def test_a_pid_file_naming_some_other_program_kills_nothing(
    make_runtime: Callable[..., LocalRuntime], tmp_path: Path
) -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        pid_file = tmp_path / "run" / "qa" / "web" / "0123456789ab.pid"
        pid_file.parent.mkdir(parents=True)
        pid_file.write_text(json.dumps({"pid": bystander.pid, "argv": [sys.executable, "app.py"]}))

        make_runtime()
        time.sleep(0.2)

        assert bystander.poll() is None
        assert not pid_file.exists()
    finally:
        bystander.kill()
        bystander.wait()
