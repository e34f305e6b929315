"""Calling a forge's REST API with httpx: authentication, errors as promobot's exception types, pagination.

Shared by the GitHub and GitLab forges. The token is given as text, or as the file holding it, read again
on every request so a rotated token (a GitHub App installation token refreshed into a mounted Secret) is
used without a restart. It travels only in a request header and only to the API's own origin (a
`Link: rel="next"` pointing anywhere else is refused), and it never reaches a log line or an exception's
text: errors name the method, the path and the forge's `message`, nothing else.

A request is sent once (`http_calls` with one attempt): 429, 5xx, a rate-limited 403 and an unreachable
forge become TemporaryError with the forge's `Retry-After`, and the caller's retry schedule takes over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from promobot.adapters import http_calls
from promobot.domain import errors

log = logging.getLogger(__name__)

TEMPORARY_STATUSES = frozenset({429, 500, 502, 503, 504})
Auth = Callable[[str], Mapping[str, str]]  # the token -> the headers that carry it


class Api:
    """One forge API endpoint: `call` returns the response of any status the caller may want to read."""

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        token: str | Path,
        auth: Auth,
        headers: Mapping[str, str],
        timeout: float = 15.0,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._origin = _origin(self.base_url)
        self._token, self._auth = token, auth
        self._client = httpx.Client(headers=dict(headers), timeout=timeout, follow_redirects=False)
        self._peer = http_calls.Peer(
            name=name,
            where=self._origin,
            explain=message,
            trust_hint="point SSL_CERT_FILE at a bundle holding the CA of its certificate",
        )
        self._policy = http_calls.Policy(attempts=1, retried=_temporary)

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """Send one request; statuses in `expect` come back, the rest become PermanentError/TemporaryError."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        if _origin(url) != self._origin:
            raise errors.PermanentError(f"{self.name} pointed promobot at another host ({_origin(url)}); refused")
        headers = dict(self._auth(self.token()))
        response = http_calls.send(
            self._client, method, url, peer=self._peer, policy=self._policy, json=json, params=params, headers=headers
        )
        if response.status_code in expect:
            return response
        raise self.failure(method, url, response)

    def token(self) -> str:
        """The token given, or the one in its file now."""
        if isinstance(self._token, str):
            return self._token
        try:
            token = self._token.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            token = ""
        if not token:  # it was there at start: most likely a refresher is rewriting it in place
            raise errors.TemporaryError(
                f"no {self.name} token in {self._token}",
                "the file must hold the forge's API token (promobot reads it again on every request "
                "and will try again)",
                retry_after=2.0,
            )
        return token

    def failure(self, method: str, url: str, response: httpx.Response) -> errors.PromobotError:
        """The error for an unexpected answer, worded for a person and free of secrets."""
        status, what = response.status_code, f"{method} {_path(url)}"
        detail = message(response)
        log.warning("%s answered %s to %s: %s", self.name, status, what, detail)
        if status == 401:
            return errors.PermanentError(
                f"{self.name} refused promobot's token ({status} {detail})",
                "check the forge token in promobot's configuration and its expiry",
            )
        if status == 403:
            return errors.PermanentError(
                f"{self.name} does not let promobot's token do {what} ({detail})",
                "give the token the permissions docs/production.md lists",
            )
        return errors.PermanentError(f"{self.name} answered {status} to {what}: {detail}")

    def pages(self, path: str, *, params: Mapping[str, str | int] | None = None) -> Iterator[Any]:
        """Every item of a list endpoint, following `Link: <...>; rel="next"` from page to page."""
        url: str | None = path
        query: Mapping[str, str | int] | None = params
        while url is not None:
            response = self.call("GET", url, params=query)
            yield from response.json()
            url, query = response.links.get("next", {}).get("url"), None


def message(response: httpx.Response) -> str:
    """The forge's own explanation (`message`, GitHub's `errors`, GitLab's list of messages), shortened."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no explanation"
    if not isinstance(body, dict):
        return response.reason_phrase or "no explanation"
    parts: list[str] = []
    text = body.get("message", "")
    if isinstance(text, list):
        parts.extend(str(t) for t in text)
    else:
        parts.append(str(text))
    for item in body.get("errors", []) or []:
        if isinstance(item, dict) and item.get("message"):
            parts.append(str(item["message"]))
        elif isinstance(item, str):
            parts.append(item)
    return "; ".join(p for p in parts if p)[:300] or response.reason_phrase or "no explanation"


def _temporary(response: httpx.Response) -> bool:
    """429, 5xx, and a 403 that is GitHub's rate limit rather than a missing permission."""
    status = response.status_code
    return status in TEMPORARY_STATUSES or (status == 403 and _rate_limited(response))


def _rate_limited(response: httpx.Response) -> bool:
    return response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _path(url: str) -> str:
    return urlsplit(url).path
