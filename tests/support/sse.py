"""Reading a Server-Sent Events stream in tests: the events of an httpx streaming response, in order."""

from __future__ import annotations

import json
from typing import Any

import httpx


def read_events(response: httpx.Response, until_kind: str) -> list[dict[str, Any]]:
    """The events up to and including the first of kind `until_kind` (all of them if it never comes);
    each a dict of its fields, `data` decoded from JSON."""
    found: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in response.iter_lines():
        if not line:
            if "event" in current:
                found.append(current)
                if current["event"] == until_kind:
                    return found
            current = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            current[key] = json.loads(value) if key == "data" else value
    return found
