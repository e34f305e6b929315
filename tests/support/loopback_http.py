"""HTTP servers on 127.0.0.1 in a thread, for contract fakes of outside APIs (GitHub, GitLab, Kubernetes, git).

A JSON fake subclasses `JsonApp` and implements `handle(request) -> Answer`; `serve(app)` runs it on a free
port for the length of a `with` block. Every request is recorded (method, path, headers) so tests can check
what reached the wire, e.g. that the token was only ever sent where it belongs.

A fake that speaks something other than JSON (git's smart HTTP) brings its own request handler class,
usually a `QuietHandler`, and runs it with `listen(handler)`. Both take `tls=`, a server context from
`tls_context(cert, key)`, to serve HTTPS instead: the handshake runs in the request's thread, and a client
that does not trust the certificate simply hangs up.

    with serve(FakeGitHub(...)) as github: ...                        # github.base_url is http://127.0.0.1:N
    with serve(kube, tls=tls_context(cert, key)) as kube: ...         # https://127.0.0.1:N
    with listen(GitHandler, name="git-http") as base_url: ...
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # raw, still percent-encoded
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class JsonApp:
    base_url = ""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[Request] = []

    def handle(self, request: Request) -> Answer:
        raise NotImplementedError


Fake = TypeVar("Fake", bound=JsonApp)


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 (connections kept open, as real clients expect) and no request log on the test's output."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context presenting `cert` (PEM, chain included) with its private `key`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.tls = tls

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        try:
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that does not trust the certificate hangs up in the handshake
        try:
            super().finish_request(wrapped, client_address)
        finally:
            wrapped.close()


@contextmanager
def listen(
    handler: type[BaseHTTPRequestHandler], *, tls: ssl.SSLContext | None = None, name: str = "loopback-http"
) -> Iterator[str]:
    """Serve `handler` on a free loopback port for the length of the block; yields the base URL."""
    server = _Server(handler, tls)
    scheme = "https" if tls is not None else "http"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=name, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _json_handler(app: JsonApp) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        disable_nagle_algorithm = True  # headers and body go out in two writes; don't wait on delayed ACKs

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                headers={k.lower(): v for k, v in self.headers.items()},
                body=json.loads(raw) if raw else None,
            )
            with app.lock:
                app.requests.append(request)
                answer = app.handle(request)
            data = b"" if answer.body is None else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler


@contextmanager
def serve(app: Fake, *, tls: ssl.SSLContext | None = None) -> Iterator[Fake]:
    """Run the JSON fake `app` for the length of the block, over HTTPS with `tls`; sets `app.base_url`."""
    with listen(_json_handler(app), tls=tls, name="fake-api") as base_url:
        app.base_url = base_url
        yield app
