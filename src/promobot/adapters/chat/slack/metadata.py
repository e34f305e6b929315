"""The mark promobot's Slack messages carry as message metadata, and reading it back from a listed message.

An operation's message and each of its thread lines are posted with a key (`operation-12`,
`operation-12/3`) under the event type `promobot_message`; `web_api.SlackChat.find` and `thread` read the
keys back from conversations.history and conversations.replies (with `include_all_metadata`). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EVENT_TYPE = "promobot_message"


def marked(key: str) -> dict[str, Any]:
    """The `metadata` argument of chat.postMessage carrying `key` (nothing without one)."""
    return {"metadata": {"event_type": EVENT_TYPE, "event_payload": {"key": key}}} if key else {}


def key_of(message: Mapping[str, Any]) -> str:
    """The key a listed message was posted with ("" for none, or another app's metadata)."""
    metadata = message.get("metadata") or {}
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != EVENT_TYPE:
        return ""
    payload = metadata.get("event_payload") or {}
    return str(payload.get("key") or "") if isinstance(payload, Mapping) else ""
