"""A git smart-HTTP server on 127.0.0.1 that wants Basic auth: `git http-backend` behind a tiny CGI bridge.

Serves every bare repository under `root` (clone, fetch and push) to one username and token, as a forge
does over HTTPS; a request without them, or with others, gets 401 and a Basic challenge. `token` may be
changed while it runs (a rotated token), or every request redirected to another server (`redirect_to`).
Every request is recorded, so tests can check what reached the wire.
"""

from __future__ import annotations

import base64
import hmac
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from support.loopback_http import QuietHandler, listen


@dataclass(frozen=True)
class Seen:
    method: str
    target: str  # the request line's target, as sent
    authorization: str  # the header as sent ("" when absent)
    accepted: bool


class GitHttpServer:
    def __init__(self, root: Path, *, username: str, token: str, redirect_to: str = "") -> None:
        self.root = root
        self.username = username
        self.token = token
        self.redirect_to = redirect_to  # answer every request with a redirect to the same path there
        self.requests: list[Seen] = []
        self.base_url = ""
        self._lock = threading.Lock()

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def accepts(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.username) and hmac.compare_digest(password, self.token)

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.requests.append(seen)

    def backend(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Run `git http-backend` as CGI for one request: its status, headers and body."""
        parts = urlsplit(handler.path)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.root),
            "REQUEST_METHOD": handler.command,
            "PATH_INFO": unquote(parts.path),
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": self.username,  # http-backend allows receive-pack for an authenticated user
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_CONTENT_ENCODING": handler.headers.get("Content-Encoding", ""),
            "HTTP_GIT_PROTOCOL": handler.headers.get("Git-Protocol", ""),
        }
        argv = ["git", "http-backend"]
        done = subprocess.run(argv, input=body, env=env, capture_output=True, timeout=60, check=False)
        head, found, payload = done.stdout.partition(b"\r\n\r\n")
        if not found:
            head, _, payload = done.stdout.partition(b"\n\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers[name.strip()] = value.strip()
        return status, headers, payload


def _handler(server: GitHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _serve(self) -> None:
            body = self._body()
            authorization = self.headers.get("Authorization", "")
            accepted = server.accepts(authorization)
            server.record(Seen(self.command, self.path, authorization, accepted))
            if server.redirect_to:
                self._answer(302, {"Location": server.redirect_to + self.path}, b"")
                return
            if not accepted:
                self._answer(401, {"WWW-Authenticate": 'Basic realm="git"'}, b"authentication required\n")
                return
            self._answer(*server.backend(self, body))

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _serve

    return Handler


@contextmanager
def serve(server: GitHttpServer) -> Iterator[GitHttpServer]:
    """Run `server` on a free loopback port for the length of the block."""
    with listen(_handler(server), name="git-http") as base_url:
        server.base_url = base_url
        yield server
