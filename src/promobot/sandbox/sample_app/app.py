"""The demo's sample web app: says which artifact it runs, and answers a health check.

Standard library only, so any Python 3 runs it. Listens on 127.0.0.1:$PORT. `/` answers a short text/plain
page naming the source revision ($SOURCE_REVISION), revision ($REVISION) and artifact ($ARTIFACT) it was
built from; `/healthz` answers 200 "ok", or 500 while a file named `BROKEN` exists in its working
directory (the app's tree). SIGTERM stops it cleanly.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType


def page() -> str:
    return (
        f"artifact: {os.environ.get('ARTIFACT', 'unknown')}\n"
        f"source revision: {os.environ.get('SOURCE_REVISION', 'unknown')}\n"
        f"revision: {os.environ.get('REVISION', 'unknown')}\n"
    )


class Handler(BaseHTTPRequestHandler):
    server_version = "sample-app/1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            broken = Path("BROKEN").exists()
            self._answer(500 if broken else 200, "broken: a BROKEN file is present\n" if broken else "ok\n")
        elif path == "/":
            self._answer(200, page())
        else:
            self._answer(404, "not found\n")

    def _answer(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        if not self.path.startswith("/healthz"):
            super().log_message(format, *args)


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever(), which runs in this very thread: ask from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_sigterm)
    print(f"serving {page().splitlines()[0]} on http://127.0.0.1:{port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    print("stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
