"""Registry authentication as an httpx auth flow: the bearer token dance and plain basic auth.

A registry answers 401 with `WWW-Authenticate: Bearer realm="..",service="..",scope=".."`; the flow then
asks the realm for a token (with basic credentials when it has them), caches it per scope until it
expires and repeats the request. A `Basic` challenge is answered with the credentials directly.
Used by `distribution`; tokens and passwords never appear in logs, errors or reprs.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass

import httpx

from promobot.domain import errors

_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_REPOSITORY = re.compile(r"^/v2/(.+)/(?:manifests|blobs|tags)/")
_DEFAULT_LIFETIME = 60.0  # seconds, when the token server does not say (the token spec's default)
_MARGIN = 5.0  # renew a little before the token server's deadline


@dataclass(frozen=True)
class Challenge:
    scheme: str
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """The first challenge of a `WWW-Authenticate` header, or None when it is empty."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _PARAM.finditer(rest)}
    return Challenge(scheme.lower(), {key: value.replace('\\"', '"') for key, value in params.items()})


class RegistryAuth(httpx.Auth):
    """Answers 401 challenges; one instance per registry, safe to share between threads."""

    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        self._basic = _basic_header(username, password or "") if username else None
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}  # scope -> (token, monotonic deadline)
        self._scopes: dict[tuple[str, str], str] = {}  # (repository, method) -> scope last asked for
        self._basic_hosts: set[str] = set()

    def __repr__(self) -> str:
        return f"RegistryAuth(basic={self._basic is not None}, cached_tokens={len(self._tokens)})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        key = _request_key(request)
        self._apply_cached(request, key)
        response = yield request
        if response.status_code != 401:
            return
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            return
        if challenge.scheme == "basic" and self._basic is not None:
            with self._lock:
                self._basic_hosts.add(request.url.netloc.decode())
            request.headers["Authorization"] = self._basic
            yield request
        elif challenge.scheme == "bearer" and "realm" in challenge.params:
            scope = challenge.params.get("scope", "")
            token_response = yield self._token_request(challenge)
            token_response.read()
            token = self._remember(scope, key, token_response)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def _apply_cached(self, request: httpx.Request, key: tuple[str, str]) -> None:
        with self._lock:
            scope = self._scopes.get(key)
            cached = self._tokens.get(scope) if scope is not None else None
            if cached is not None and cached[1] > time.monotonic():
                request.headers["Authorization"] = f"Bearer {cached[0]}"
            elif self._basic is not None and request.url.netloc.decode() in self._basic_hosts:
                request.headers["Authorization"] = self._basic

    def _token_request(self, challenge: Challenge) -> httpx.Request:
        realm = httpx.URL(challenge.params["realm"])
        if realm.scheme not in ("http", "https"):
            raise errors.PermanentError("the registry named a token server that is not an HTTP URL")
        query = {
            k: v
            for k, v in (("service", challenge.params.get("service")), ("scope", challenge.params.get("scope")))
            if v
        }
        request = httpx.Request("GET", realm.copy_merge_params(query))
        if self._basic is not None:
            request.headers["Authorization"] = self._basic
        return request

    def _remember(self, scope: str, key: tuple[str, str], response: httpx.Response) -> str:
        if response.status_code in (401, 403):
            raise errors.PermanentError(
                f"the registry's token server refused the credentials ({response.status_code})",
                "check the registry username and password in the config",
            )
        if response.status_code >= 400:
            raise errors.TemporaryError(f"the registry's token server answered {response.status_code}")
        try:
            body = response.json()
            token = str(body.get("token") or body.get("access_token") or "")
            lifetime = float(body.get("expires_in") or _DEFAULT_LIFETIME)
        except (ValueError, AttributeError, TypeError):
            token, lifetime = "", 0.0
        if not token:
            raise errors.PermanentError("the registry's token server sent no token")
        with self._lock:
            self._tokens[scope] = (token, time.monotonic() + max(lifetime - _MARGIN, 1.0))
            self._scopes[key] = scope
        return token


def _basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _request_key(request: httpx.Request) -> tuple[str, str]:
    match = _REPOSITORY.match(request.url.path)
    reads = request.method in ("GET", "HEAD")  # the registry asks the same (pull) scope of both
    return (match.group(1) if match else "", "read" if reads else request.method)
