"""The Kubernetes API over HTTPS for the two calls the Flux engine makes: get an object, merge-patch it.

Credentials come from the pod's ServiceAccount (`Access.in_cluster()`: the API at
https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, the token and CA files under
/var/run/secrets/kubernetes.io/serviceaccount) or from an explicit URL, token file and CA file. The token
is read from its file on every request, since the kubelet rotates projected tokens; it is only ever put in
the Authorization header, never in a log line or an error. The server's certificate is always verified
(against the CA file when given, else the system's trust store).

The API's errors are Status objects (`{"kind": "Status", "code": 403, "reason": "Forbidden", "message": ...}`):
401 -> permanent (the token is not accepted), 403 -> Forbidden, 404 -> NotFound, other 4xx -> permanent;
429, 5xx and an unreachable server -> retried (`http_calls`), then TemporaryError.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from promobot.adapters import http_calls
from promobot.domain import errors

Json = dict[str, Any]
SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class NotFound(errors.PermanentError):
    code = "not_found"


class Forbidden(errors.PermanentError):
    code = "forbidden"


@dataclass(frozen=True)
class Access:
    """Where the API server is and how to prove who promobot is."""

    url: str
    token_file: Path
    ca_file: Path | None = None

    @classmethod
    def in_cluster(cls, environ: Mapping[str, str] = os.environ, root: Path = SERVICE_ACCOUNT) -> Access:
        """The pod's own ServiceAccount, as client-go's rest.InClusterConfig reads it."""
        host, port = environ.get("KUBERNETES_SERVICE_HOST", ""), environ.get("KUBERNETES_SERVICE_PORT", "")
        if not host or not port or not (root / "token").is_file():
            raise errors.ConfigError(
                "engine.kubernetes.in_cluster: promobot is not running in a Kubernetes pod with a service account",
                f"KUBERNETES_SERVICE_HOST/PORT and {root}/token are needed; outside a cluster give url and token_file",
            )
        host = f"[{host}]" if ":" in host else host
        return cls(f"https://{host}:{port}", root / "token", root / "ca.crt")


class Client:
    """Thread-safe: httpx.Client may be shared between threads."""

    def __init__(self, access: Access, *, timeout: float = 10.0, attempts: int = 3, backoff: float = 0.5) -> None:
        self.base = access.url.rstrip("/")
        self._token_file = access.token_file
        self._policy = http_calls.Policy(attempts=attempts, backoff=backoff, retried=_retried)
        self._peer = http_calls.Peer(
            name="the Kubernetes API",
            where=self.base,
            explain=_message,
            hint="promobot will try again",
            trust_hint="point ca_file at the cluster's CA certificate",
        )
        try:
            context = ssl.create_default_context(cafile=str(access.ca_file) if access.ca_file else None)
        except (OSError, ssl.SSLError):
            raise errors.ConfigError(
                f"cannot read the Kubernetes API's CA certificate from {access.ca_file}",
                "it must be a readable PEM file (ca.crt of the cluster)",
            ) from None
        self._http = httpx.Client(
            base_url=self.base,
            headers={"Accept": "application/json", "User-Agent": "promobot"},
            timeout=timeout,
            verify=context,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def get(self, path: str) -> Json:
        return self._call("GET", path, None)

    def merge_patch(self, path: str, body: Json) -> Json:
        return self._call("PATCH", path, body)

    def _token(self) -> str:
        try:
            token = self._token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            token = ""
        if not token:
            raise errors.PermanentError(
                f"no Kubernetes API token in {self._token_file}",
                "mount the ServiceAccount token there (automountServiceAccountToken) or fix token_file",
            )
        return token

    def _call(self, method: str, path: str, body: Json | None) -> Json:
        headers = {"Authorization": f"Bearer {self._token()}"}
        if body is not None:
            headers["Content-Type"] = "application/merge-patch+json"
        response = http_calls.send(
            self._http, method, path, peer=self._peer, policy=self._policy, json=body, headers=headers
        )
        return _answer(f"{method} {path}", response)


def _retried(response: httpx.Response) -> bool:
    return response.status_code == 429 or response.status_code >= 500


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    return str(data.get("message") or data.get("reason") or "")[:500] if isinstance(data, dict) else ""


def _answer(what: str, response: httpx.Response) -> Json:
    status, message = response.status_code, _message(response)
    if status == 401:
        raise errors.PermanentError(
            f"the Kubernetes API refused promobot's token (401) on {what}",
            "the ServiceAccount token is missing, expired or from another cluster",
        )
    if status == 403:
        raise Forbidden(f"the Kubernetes API answered 403 to {what}: {message or 'forbidden'}")
    if status == 404:
        raise NotFound(f"the Kubernetes API answered 404 to {what}: {message or 'not found'}")
    if status >= 300:
        raise errors.PermanentError(f"the Kubernetes API answered {status} to {what}: {message}")
    try:
        data = response.json()
    except ValueError:
        raise errors.PermanentError(f"the Kubernetes API's answer to {what} is not JSON") from None
    if not isinstance(data, dict):
        raise errors.PermanentError(f"the Kubernetes API's answer to {what} is not a JSON object")
    return data
