"""Benchmark 1, chat ack: signed slash commands at 50/s for 30 s with 20 operations in flight; p50/p99 ack.

A real `promobot serve` on a sandbox whose config has a `slack:` section pointing at a fake Slack Web API
(tests/support/fake_slack.py, run in a process of its own so it takes no CPU from the load generator).
The database holds 20 apps' history and 20 running promotions (updated just now, so the worker keeps
driving them during the run). Slash commands (`/list`, `/promobot status N`, `/promobot help`, in turn),
each signed with the app's signing secret (v0 HMAC) and with its own trigger id, are sent on an open-loop
schedule from several loopback connections; a command's ack latency runs from its scheduled send time to
the HTTP answer. Afterwards every command must have been answered through its response URL.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import world
import yaml
from common import ROOT, emit, ms, note, percentile, profiled, scratch, size

from support import databases, running

RATE = 50.0  # commands per second
SENDERS = 20  # loopback connections: a slow answer on one does not hold back the schedule
IN_FLIGHT = 20
WARM_UP = size(50, 10)  # commands sent before the measured ones
SECRET = "bench-signing-secret-0123456789abcdef"
STUB = """
import sys, time
sys.path.insert(0, sys.argv[1])
from support.fake_slack import FakeSlack
fake = FakeSlack().start()
print(fake.base_url, flush=True)
sys.stdin.read()
print(len(fake.of("response_url")), flush=True)
"""

FLOOR = """
import sys, uvicorn
from fastapi import FastAPI, Request, Response
app = FastAPI()
@app.post("/slack/events")
async def events(request: Request) -> Response:
    await request.body()
    return Response("ok")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def configure(setup: running.Setup, api_url: str) -> None:
    """Add the Slack app to the sandbox config: secrets in files, the developer's Slack id."""
    tokens = setup.root / "tokens"
    (tokens / "slack-signing").write_text(SECRET + "\n")
    (tokens / "slack-bot").write_text("xoxb-bench\n")
    settings = yaml.safe_load(setup.config.read_text())
    settings["slack"] = {
        "signing_secret": {"file": "tokens/slack-signing"},
        "bot_token": {"file": "tokens/slack-bot"},
        "channels": {"default": "#deploys"},
        "api_url": api_url,
    }
    for user in settings["users"]:
        user["slack_id"] = "U0DEV" if user["name"] == "developer" else "U0RM"
    setup.config.write_text(yaml.safe_dump(settings, sort_keys=False))


def command(n: int, response_url: str) -> tuple[bytes, dict[str, str]]:
    """The n-th slash command, form-encoded and signed as Slack signs it."""
    name, text = [("/list", ""), ("/promobot", f"status {n % IN_FLIGHT + 1}"), ("/promobot", "help")][n % 3]
    form = {
        "team_id": "T0TEAM",
        "channel_id": "C0DEPLOYS",
        "user_id": "U0DEV",
        "command": name,
        "text": text,
        "response_url": response_url,
        "trigger_id": f"bench-{n}-{time.monotonic_ns()}",
    }
    body = urlencode(form).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={signature}",
    }
    return body, headers


def load(
    base_url: str, response_url: str, total: int, late: list[float] | None = None, *, path: str = "/slack/events"
) -> tuple[list[float], int]:
    """Send `total` commands at RATE per second; their ack latencies (s) and how many were not 200.

    `late` gets how late each send began after its due time (a sender still waiting for its previous answer,
    or the load generator itself not scheduled).
    """
    latencies: list[float] = []
    failed = [0]
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def sender(k: int) -> None:
        with httpx.Client(base_url=base_url, timeout=10) as client:
            for n in range(k, total, SENDERS):
                body, headers = command(n, response_url)
                due = start + n / RATE
                time.sleep(max(0.0, due - time.perf_counter()))
                began = time.perf_counter() - due
                answer = client.post(path, content=body, headers=headers)
                took = time.perf_counter() - due
                with lock:
                    latencies.append(took)
                    if late is not None:
                        late.append(began)
                    failed[0] += answer.status_code != 200

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failed[0]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process `pid` has used so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def floor_latencies(response_url: str, total: int) -> list[float]:
    """The same schedule against the floor: a bare FastAPI app under uvicorn that answers 200 and does nothing.

    Run right after promobot's run, on the same machine load: what is left of promobot's latency above this
    is promobot's; the rest is the machine (and Python's HTTP stack).
    """
    port = running.free_port()
    server = subprocess.Popen([sys.executable, "-c", FLOOR, str(port)])
    try:
        base_url = f"http://127.0.0.1:{port}"
        running.until(lambda: httpx.get(base_url + "/docs", timeout=1).status_code == 200, 30, "the floor app")
        load(base_url, response_url, WARM_UP)
        return load(base_url, response_url, total)[0]
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    seconds = size(30, 1)
    total = int(RATE * seconds)
    stub = subprocess.Popen(
        [sys.executable, "-c", STUB, str(ROOT / "tests")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert stub.stdin is not None and stub.stdout is not None
    api_url = stub.stdout.readline().strip()
    with scratch("chat") as root, world.database(databases.SQLITE, root) as url:
        world.seed(url, apps=IN_FLIGHT, history=IN_FLIGHT * 4 * 5, active=IN_FLIGHT, active_since=datetime.now(UTC))
        setup = world.setup(root, apps=IN_FLIGHT, database_url=url)
        configure(setup, api_url)
        setup.start()
        try:
            response_url = api_url.removesuffix("api/") + "respond/1"
            load(setup.base_url, response_url, WARM_UP)
            assert setup.process is not None
            cpu_before, late = cpu_seconds(setup.process.pid), list[float]()
            with profiled(setup.process.pid, "chat_ack"):
                latencies, failed = load(setup.base_url, response_url, total, late)
            serve_cpu = cpu_seconds(setup.process.pid) - cpu_before
            deadline = time.monotonic() + 60
            with httpx.Client(base_url=setup.base_url, timeout=10) as client:
                while time.monotonic() < deadline and client.get("/healthz").status_code != 200:
                    time.sleep(0.1)
            time.sleep(size(3, 1))  # the work after the acks: replies through the response URL
        finally:
            setup.stop()
            stub.stdin.close()
            answered = int(stub.stdout.readline().strip() or 0)
            stub.wait(10)
    floor = floor_latencies(response_url, total)
    note("chat_ack_shape", f"{total} signed slash commands at {RATE:.0f}/s from {SENDERS} loopback connections, "
         f"{IN_FLIGHT} operations in flight, SQLite")  # fmt: skip
    emit("chat_ack_p50", ms(percentile(latencies, 50)), "ms")
    emit("chat_ack_p90", ms(percentile(latencies, 90)), "ms")
    emit("chat_ack_p99", ms(percentile(latencies, 99)), "ms")
    emit("chat_ack_max", ms(max(latencies)), "ms")
    emit("chat_ack_floor_p50", ms(percentile(floor, 50)), "ms")  # a bare FastAPI app under uvicorn, same load
    emit("chat_ack_floor_p99", ms(percentile(floor, 99)), "ms")
    emit("chat_ack_send_late_p99", ms(percentile(late, 99)), "ms")  # of the latency above, before the send began
    emit("chat_ack_serve_cpu_per_command", ms(serve_cpu / total), "ms")  # ack and the work after it, all threads
    emit("chat_ack_refused", failed, "requests")
    emit("chat_ack_answered", answered, "replies")
    note("chat_ack_target", "p99 <= 50 ms")
    if failed or answered < total + WARM_UP:
        raise SystemExit(f"{failed} slash commands not acked with 200; {answered} of {total + WARM_UP} answered")


if __name__ == "__main__":
    main()
