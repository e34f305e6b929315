"""One HTTP request to an outside API, tried again while the failure may pass: the adapters' shared retry.

Used by the forge (`forge.calling`), Argo CD (`engines.argocd_http`), Kubernetes (`engines.kubernetes_api`)
and OCI registry (`registry.distribution`) clients. `send` returns the first answer whose status the
`Policy` does not retry, for the caller to read or map to its own errors. A retried status or an
unreachable server is tried `attempts` times in all, waiting `backoff * n` seconds after the n-th try, or
the server's `Retry-After` when that is longer. The last failure, or one asking for a wait over
`longest_wait`, becomes one TemporaryError whose `retry_after` is the server's `Retry-After` (1 to 300
seconds) or else `Policy.retry_after`: the caller's schedule waits.
A TemporaryError raised while sending (an auth flow's own call, such as a registry's token server) is
retried like an unreachable server. A certificate promobot does not trust is never retried: it is a
PermanentError, raised before any request reached the server.

Error and log lines name the peer, the method and the path, and the server's own explanation: never a
header, so a token never reaches them.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from promobot.domain import errors

log = logging.getLogger(__name__)


def server_errors(response: httpx.Response) -> bool:
    """Retry every 5xx."""
    return response.status_code >= 500


@dataclass(frozen=True)
class Peer:
    """Who promobot is calling, for the error lines: `name` starts them, `where` is the base URL."""

    name: str
    where: str
    explain: Callable[[httpx.Response], str]  # the server's own explanation from an error body, shortened
    hint: str = ""  # what the TemporaryError adds after its one line
    trust_hint: str = ""  # what to do when the server's certificate is not trusted


@dataclass(frozen=True)
class Policy:
    """How often to try, how long to wait between tries (`sleep` is injectable), and which answers to retry."""

    attempts: int = 3
    backoff: float = 0.5
    retried: Callable[[httpx.Response], bool] = server_errors
    retry_after: float = 5.0
    longest_wait: float = 10.0
    sleep: Callable[[float], None] = time.sleep


def send(http: httpx.Client, method: str, url: str, *, peer: Peer, policy: Policy, **request: Any) -> httpx.Response:
    """The first answer the policy does not retry; TemporaryError once the attempts are used up."""
    what = f"{method} {urlsplit(url).path}"
    attempts = max(1, policy.attempts)
    for attempt in range(1, attempts + 1):
        wait, later = policy.backoff * attempt, None
        try:
            response = http.request(method, url, **request)
        except httpx.HTTPError as exc:
            problem = _unreachable(peer, what, exc)
        except errors.TemporaryError as exc:  # an auth flow's own call failed for now
            problem = f"{exc.message} (for {what})"
        else:
            if not policy.retried(response):
                return response
            problem = f"{peer.name} answered {response.status_code} to {what}: {peer.explain(response)}"
            later = retry_after(response)
            wait = max(wait, later or 0.0)
        log.warning("%s (attempt %d of %d)", problem, attempt, attempts)
        if attempt == attempts or wait > policy.longest_wait:
            raise errors.TemporaryError(problem, peer.hint, retry_after=later or policy.retry_after)
        policy.sleep(wait)
    raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover


def retry_after(response: httpx.Response) -> float | None:
    """The server's `Retry-After` in seconds (1 to 300), or None when it gave none promobot can read."""
    try:
        return max(1.0, min(float(response.headers["retry-after"]), 300.0))
    except (KeyError, ValueError):
        return None


def _unreachable(peer: Peer, what: str, exc: httpx.HTTPError) -> str:
    """The line for a request that got no answer; a refused certificate is raised at once, never retried."""
    if _certificate_refused(exc):
        raise errors.PermanentError(
            f"{peer.name} at {peer.where} has a certificate promobot does not trust", peer.trust_hint
        ) from None
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return f"{peer.name} did not answer {what} in time"
    return f"cannot reach {peer.name} at {peer.where} ({type(exc).__name__})"


def _certificate_refused(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
