"""A profiling aid for benchmark 1, not a benchmark: CPU per Slack ack, and ack latency beside a synthetic
background load of serve's shape.

`bench/run.py` (`make bench`) does not run it and results.json holds none of its figures: it was written to
weigh one change (its `previous` path is a copy of the request path before that change, kept as a route)
and to try knobs (GIL switch interval, bot worker count) that docs/performance.md reports as not kept.
Run it directly when working on the ack path: `.venv/bin/python bench/chat_ack_inprocess.py` (~3 minutes;
BENCH_SMOKE=1 makes it small). It prints `name: value unit` lines like the benchmarks.

Less noisy than `chat_ack.py` on a shared machine, because it leaves out the database, git and the seeded
operations, and compares the previous request path with the current one minutes (not runs) apart:

- **CPU per ack**: the real FastAPI app with the real Slack app, called as ASGI without sockets, N signed
  `/promobot help` commands one after another on one event loop; CPU time of the process per ack while the
  work after each ack is a no-op. `previous` is the path before this change, kept here as a route: the
  application through a FastAPI dependency and `handle_http` on the thread pool.
- **latency**: the same app under uvicorn in this process, signed commands at 50/s for a few seconds from a
  load generator in a child process (`chat_ack.load`). The work after each ack has serve's shape: the bot's
  own worker threads burn WORK_MS of CPU in Python per command (serve spends ~6.5 ms of CPU per command,
  ack included) and reply through the real response-URL client to a fake Slack in a child process, while an
  "operation worker" thread burns TICK_MS every 0.5 s. Both paths, with Python's default GIL switch
  interval (5 ms) and with 1 ms, alternated.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from chat_ack import SECRET, STUB, command
from common import ROOT, emit, ms, note, percentile, scratch, size
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from promobot import bootstrap, ports
from promobot.adapters.chat.slack.bot import SlackBot
from promobot.adapters.chat.slack.web_api import SlackChat
from promobot.messages import replies
from promobot.web.app import create_app
from promobot.web.auth import App
from support.fakes import make_context
from support.running import free_port, until

WORK_MS = 4.0  # CPU of the work after one ack (serve: ~6.5 ms per command in all, of which the ack ~1 ms)
TICK_MS = 30.0  # the operation worker's CPU per 0.5 s tick with 20 operations in flight
PATHS = (("/slack/previous", "previous"), ("/slack/events", "now"))
WORKER_COUNTS = (4, 1)
GENERATOR = """
import json, sys
sys.path.insert(0, sys.argv[1])
import chat_ack
latencies, failed = chat_ack.load(sys.argv[2], sys.argv[3], int(sys.argv[4]), path=sys.argv[5])
print(json.dumps({"latencies": latencies, "failed": failed}))
"""


def burn(seconds: float) -> None:
    """Hold a CPU (and the GIL, as Python code does) for `seconds` of this thread's CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        sum(range(200))


class Burner:
    """The chat commands port: each command costs `work_ms` of CPU, then says so."""

    def __init__(self, work_ms: float) -> None:
        self.work = work_ms / 1000.0

    def handle(self, request: ports.ChatRequest) -> ports.ChatMessage:
        burn(self.work)
        return ports.ChatMessage(text=f"done: {request.text}")


class QuietChat(SlackChat):
    """Slack's client with replies through response URLs dropped: the CPU measured is the ack's alone."""

    def respond(self, response_url: str, message: ports.ChatMessage) -> None:
        return None


def application(
    root: Path, api_url: str, work_ms: float, *, workers: int = 4, quiet: bool = False
) -> tuple[bootstrap.Application, Any]:
    """The Slack app on a fake Slack, its commands synthetic; the ASGI app with the previous path beside."""
    ctx, _ = make_context(root / "world")
    bot = SlackBot(
        signing_secret=SECRET,
        chat=(QuietChat if quiet else SlackChat)("xoxb-bench", base_url=api_url),
        commands=Burner(work_ms),
        working=replies.working(),
        failed=replies.failed_internally(),
        workers=workers,
    )
    bot.start()
    app = bootstrap.Application(ctx=ctx, loaded=None, tokens={}, webhook_token="unused", slack=bot)  # type: ignore[arg-type]
    asgi = create_app(app, manage_lifecycle=False)

    async def previous(request: Request, app: App) -> Response:  # the endpoint before: dependency + thread hop
        assert app.slack is not None
        body = await request.body()
        status, headers, text = await run_in_threadpool(app.slack.handle_http, body, dict(request.headers))
        return Response(content=text, status_code=status, headers=headers)

    asgi.add_api_route("/slack/previous", previous, methods=["POST"], include_in_schema=False)
    return app, asgi


def cpu_per_ack(asgi: Any, path: str, response_url: str, count: int) -> float:
    """Process CPU seconds per ack, the app called as ASGI on one event loop, one command after another."""

    async def one(n: int) -> None:
        body, headers = command(3 * n + 2, response_url)  # `/promobot help`
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
            + [(b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80),
        }  # fmt: skip
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await asgi(scope, receive, send)
        assert sent[0]["status"] == 200, sent

    async def run() -> float:
        for n in range(50):  # warm-up
            await one(n)
        start = time.process_time()
        for n in range(count):
            await one(n)
        return (time.process_time() - start) / count

    return asyncio.run(run())


def latencies(url: str, path: str, response_url: str, total: int) -> list[float]:
    here = str(ROOT / "bench")
    done = subprocess.run(
        [sys.executable, "-c", GENERATOR, here, url, response_url, str(total), path],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["failed"] == 0, found
    return list(found["latencies"])


def serve_under_load(
    root: Path, api_url: str, response_url: str, workers: int, total: int, found: dict[str, list[float]]
) -> None:
    """Uvicorn in this process with `workers` bot threads and the synthetic work; both paths, both intervals."""
    app, asgi = application(root, api_url, work_ms=WORK_MS, workers=workers)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(asgi, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    until(lambda: server.started, 10, "uvicorn to serve")
    stop = threading.Event()

    def operation_worker() -> None:
        while not stop.wait(0.5):
            burn(TICK_MS / 1000.0)

    ticker = threading.Thread(target=operation_worker, daemon=True)
    ticker.start()
    try:
        for switch in (0.005, 0.001):
            for path, name in PATHS:
                sys.setswitchinterval(switch)
                try:
                    key = f"{name}_workers_{workers}_switch_{switch * 1000:.0f}ms"
                    found.setdefault(key, []).extend(latencies(url, path, response_url, total))
                finally:
                    sys.setswitchinterval(0.005)
                time.sleep(1.0)  # the queued work after the acks drains
    finally:
        stop.set()
        server.should_exit = True
        thread.join(10)
        app.slack.stop()  # type: ignore[union-attr]


def main() -> None:
    stub = subprocess.Popen(
        [sys.executable, "-c", STUB, str(ROOT / "tests")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert stub.stdin is not None and stub.stdout is not None
    api_url = stub.stdout.readline().strip()
    response_url = api_url.removesuffix("api/") + "respond/1"
    found: dict[str, list[float]] = {}
    total = int(50 * size(10, 1))
    with scratch("chat-inprocess") as root:
        app, asgi = application(root / "cpu", api_url, work_ms=0.0, quiet=True)
        count = size(2000, 100)
        for _ in range(2):  # alternated, the second round kept
            cpu = {name: cpu_per_ack(asgi, path, response_url, count) for path, name in PATHS}
        for name, seconds in cpu.items():
            emit(f"chat_ack_inprocess_cpu_per_ack_{name}", ms(seconds), "ms")
        app.slack.stop()  # type: ignore[union-attr]
        try:
            for workers in WORKER_COUNTS:
                serve_under_load(root / f"w{workers}", api_url, response_url, workers, total, found)
        finally:
            stub.stdin.close()
            stub.wait(10)
    note("chat_ack_inprocess_shape", f"{total} commands at 50/s per run; work after each ack {WORK_MS} ms CPU on "
         f"the bot's threads, an operation-worker thread {TICK_MS} ms CPU every 0.5 s")  # fmt: skip
    for key, values in found.items():
        emit(f"chat_ack_inprocess_{key}_p50", ms(percentile(values, 50)), "ms")
        emit(f"chat_ack_inprocess_{key}_p99", ms(percentile(values, 99)), "ms")


if __name__ == "__main__":
    main()
