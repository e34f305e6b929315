"""Loopback helpers around the real registry: a flaky, paging proxy and a token server.

`Proxy` forwards to the registry; it can fail the next N requests (503, a dropped connection, or 429 with a
`Retry-After`) and can page `tags/list` the way the distribution spec describes (`n`, `last`,
`Link: <...>; rel="next"`), which Debian's registry 2.8 does not do itself. `TokenServer` is the token
service of the Docker token auth spec: basic credentials in, a JWT signed with an openssl-made RSA key out
(`x5c` names the certificate the registry trusts through `rootcertbundle`).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

_TAGS = re.compile(r"^/v2/(.+)/tags/list$")
_HOP = {"connection", "transfer-encoding", "content-length", "keep-alive", "date", "server"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], owner: Any) -> Iterator[str]:
    """Serve `handler` on a free loopback port (its `owner` attribute set); yields the base URL."""
    server = _Server(("127.0.0.1", 0), handler)
    server.owner = owner  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Proxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.failures: list[str] = []  # "503", "drop" or "429:<Retry-After>", used up one per request
        self.seen: list[str] = []  # "METHOD /path?query" of every request

    def fail_next(self, *kinds: str) -> None:
        self.failures.extend(kinds)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_: Any) -> None:
        return

    @property
    def proxy(self) -> Proxy:
        owner: Proxy = self.server.owner  # type: ignore[attr-defined]
        return owner

    def _handle(self) -> None:
        self.proxy.seen.append(f"{self.command} {self.path}")
        if self.proxy.failures:
            kind = self.proxy.failures.pop(0)
            if kind == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if kind.startswith("429:"):
                self._answer(429, {"Retry-After": kind.removeprefix("429:")}, b"")
                return
            self._answer(503, {"Content-Type": "text/plain"}, b"try later")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP | {"host"}}
        split = urlsplit(self.path)
        paged = self.command == "GET" and _TAGS.match(split.path)
        target = split.path if paged else self.path
        upstream = httpx.request(self.command, self.proxy.upstream + target, headers=headers, content=body)
        out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP | {"content-encoding"}}
        content = upstream.content
        if paged and upstream.status_code == 200:
            content, link = _page(split.path, parse_qs(split.query), upstream.json())
            if link:
                out["Link"] = link
        self._answer(upstream.status_code, out, content)

    def _answer(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = _handle


def _page(path: str, query: dict[str, list[str]], listing: dict[str, Any]) -> tuple[bytes, str]:
    tags = sorted(listing.get("tags") or [])
    last = query.get("last", [""])[0]
    tags = [t for t in tags if t > last]
    if "n" not in query:
        return json.dumps({"name": listing["name"], "tags": tags}).encode(), ""
    n = int(query["n"][0])
    page, more = tags[:n], len(tags) > n
    link = f'<{path}?n={n}&last={page[-1]}>; rel="next"' if more else ""
    return json.dumps({"name": listing["name"], "tags": page}).encode(), link


@contextmanager
def proxy(upstream: str) -> Iterator[tuple[Proxy, str]]:
    made = Proxy(upstream)
    with serving(_ProxyHandler, made) as url:
        yield made, url


class TokenServer:
    """Issues tokens to `username`/`password`; remembers every (service, scope, user) it was asked for."""

    def __init__(self, root: Path, *, username: str, password: str, lifetime: int = 300) -> None:
        self.username, self.password, self.lifetime = username, password, lifetime
        self.issuer, self.service = "promobot-test-issuer", "promobot-test-registry"
        self.asked: list[tuple[str, str, str]] = []
        root.mkdir(parents=True, exist_ok=True)
        self.key, self.cert = root / "token.key", root / "token.pem"
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=token"),
                *("-keyout", str(self.key), "-out", str(self.cert)),
            ],
            check=True,
            capture_output=True,
        )
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"], check=True, capture_output=True
        )
        self.x5c = base64.b64encode(der.stdout).decode()

    def registry_auth(self, realm: str) -> dict[str, Any]:
        """The `auth:` section of a registry config trusting this server."""
        return {
            "token": {
                "realm": realm,
                "service": self.service,
                "issuer": self.issuer,
                "rootcertbundle": str(self.cert),
            }
        }

    def token(self, scope: str, user: str) -> str:
        now = int(time.time())
        access = []
        if scope:
            kind, name, _ = scope.split(":", 2)
            access.append({"type": kind, "name": name, "actions": ["pull", "push", "delete", "*"]})
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {
            "iss": self.issuer,
            "sub": user,
            "aud": self.service,
            "exp": now + self.lifetime,
            "nbf": now - 10,
            "iat": now,
            "jti": f"{now}-{len(self.asked)}",
            "access": access,
        }
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signed = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing_input.encode(),
            check=True,
            capture_output=True,
        )
        return f"{signing_input}.{_b64(signed.stdout)}"


class _TokenHandler(BaseHTTPRequestHandler):
    def log_message(self, *_: Any) -> None:
        return

    def do_GET(self) -> None:
        owner: TokenServer = self.server.owner  # type: ignore[attr-defined]
        query = parse_qs(urlsplit(self.path).query)
        scheme, _, encoded = (self.headers.get("Authorization") or "").partition(" ")
        basic = base64.b64decode(encoded).decode() if scheme == "Basic" else ""
        user, _, password = basic.partition(":")
        owner.asked.append((query.get("service", [""])[0], query.get("scope", [""])[0], user))
        if (user, password) != (owner.username, owner.password):
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps({"token": owner.token(query.get("scope", [""])[0], user), "expires_in": owner.lifetime})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())


@contextmanager
def token_server(root: Path, *, username: str, password: str) -> Iterator[tuple[TokenServer, str]]:
    made = TokenServer(root, username=username, password=password)
    with serving(_TokenHandler, made) as url:
        yield made, url + "/token"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
