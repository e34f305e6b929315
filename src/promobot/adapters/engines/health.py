"""Health checks of the local runtime's apps: wait for a new one to answer /healthz, probe running ones.

Failures come back as one line a person can act on (None means healthy).
"""

from __future__ import annotations

import threading
import time

import httpx

from promobot.adapters.engines import processes

PATH = "/healthz"


def wait_healthy(child: processes.Child, url: str, *, timeout: float, abort: threading.Event) -> str | None:
    """Poll `url`healthz until it answers 200 (None), the child exits, `timeout` passes or `abort` is set."""
    deadline = time.monotonic() + timeout
    last: int | None = None
    with httpx.Client(timeout=1.0, trust_env=False) as client:
        while True:
            if child.popen.poll() is not None:
                return f"{processes.exit_summary(child)} (log: {child.log})"
            try:
                status = client.get(url.rstrip("/") + PATH).status_code
            except httpx.HTTPError:
                status = None
            if status == 200:
                return None
            last = status or last
            if time.monotonic() >= deadline:
                break
            if abort.wait(0.1):
                return "promobot stopped before the app became healthy"
    if last is not None:
        return f"health check {PATH} answered {last} for {timeout:g}s (log: {child.log})"
    return f"health check {PATH} did not answer within {timeout:g}s (log: {child.log})"


def probe(base_url: str, *, timeout: float = 1.0) -> str | None:
    """One health check of a running app: None when it answers 200, else what went wrong."""
    try:
        status = httpx.get(base_url.rstrip("/") + PATH, timeout=timeout, trust_env=False).status_code
    except httpx.HTTPError as exc:
        return f"health check {PATH} failed: {type(exc).__name__}"
    return None if status == 200 else f"health check {PATH} answers {status}"
