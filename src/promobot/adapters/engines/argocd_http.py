"""Argo CD's REST API over HTTP: one bearer-token client, retries on 5xx (`http_calls`), errors mapped to promobot's.

Argo CD answers through grpc-gateway: an error body is `{"code": <grpc code>, "message": ...}` (older
servers add `"error"`). 401 means the token is not accepted; 403 means the account may not act on the
application *or*, when no `project` was sent, that the application does not exist (Argo CD will not say
which); 404 comes only when `project` was sent and the account may read that project. The token is only
ever put in the Authorization header: it never reaches a log line or an exception's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from promobot.adapters import http_calls
from promobot.domain import errors

Json = dict[str, Any]
BUSY = "another operation is already in progress"


class NotFound(errors.PermanentError):
    """Argo CD says the application does not exist (only said when a `project` was sent)."""

    code = "not_found"


class Forbidden(errors.PermanentError):
    code = "forbidden"


class Client:
    """Thread-safe: httpx.Client may be shared between threads."""

    def __init__(
        self,
        *,
        url: str,
        token: str,
        timeout: float = 10.0,
        verify_tls: bool = True,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        if not token:
            raise errors.ConfigError("the Argo CD token is empty", "give promobot an Argo CD API token")
        self.base = url.rstrip("/")
        self._policy = http_calls.Policy(attempts=attempts, backoff=backoff)
        self._peer = http_calls.Peer(
            name="Argo CD",
            where=self.base,
            explain=_message,
            hint="Argo CD may be restarting; promobot will try again",
            trust_hint="point SSL_CERT_FILE at a bundle holding its CA, or set the engine's verify_tls: false",
        )
        self._http = httpx.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            verify=verify_tls,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, query: Mapping[str, str]) -> Json:
        return self._call("GET", path, query, None)

    def post(self, path: str, query: Mapping[str, str], body: Json) -> Json:
        return self._call("POST", path, query, body)

    def _call(self, method: str, path: str, query: Mapping[str, str], body: Json | None) -> Json:
        response = http_calls.send(
            self._http, method, path, peer=self._peer, policy=self._policy, params=dict(query), json=body
        )
        return _answer(f"{method} {path}", response)


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or "")[:500]
    return ""


def _answer(what: str, response: httpx.Response) -> Json:
    status, message = response.status_code, _message(response)
    if status == 401:
        raise errors.PermanentError(
            f"Argo CD refused promobot's token (401) on {what}",
            "the token is missing, expired or revoked: generate a new one "
            "(`argocd account generate-token --account promobot`) and update the secret",
        )
    if status == 403:
        raise Forbidden(f"Argo CD answered 403 (permission denied) to {what}: {message or 'no detail'}")
    if status == 404:
        raise NotFound(f"Argo CD answered 404 to {what}: {message or 'not found'}")
    if BUSY in message:
        raise errors.TemporaryError(f"Argo CD is busy: {message}", retry_after=5.0)
    if status >= 300:
        raise errors.PermanentError(f"Argo CD answered {status} to {what}: {message or response.reason_phrase}")
    try:
        data = response.json()
    except ValueError:
        raise errors.PermanentError(f"Argo CD's answer to {what} is not JSON") from None
    if not isinstance(data, dict):
        raise errors.PermanentError(f"Argo CD's answer to {what} is not a JSON object")
    return data
