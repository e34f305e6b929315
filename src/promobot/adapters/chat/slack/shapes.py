"""Whether a signed Slack request body has the shape Bolt and promobot's listeners read, before Bolt reads it.

Bolt indexes into the body it dispatches (`actions[0]`, `view["callback_id"]`, `user["id"]`) and fails on a
body of the wrong shape with a 500 and a traceback. Only Slack can sign a body, and Slack never sends such
a body, so one that is not readable is refused with a 400 instead. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

RECORDS = ("user", "channel", "container", "team", "event", "view", "message", "enterprise", "item")


def readable(body: Any) -> bool:
    """A JSON object whose records are objects; a block action's `actions` a non-empty list of actions."""
    if not isinstance(body, dict):
        return False
    if any(key in body and not isinstance(body[key], dict) for key in RECORDS):
        return False
    authorizations = body.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        return False
    if "actions" in body:
        actions = body["actions"]
        if not (isinstance(actions, list) and actions and all(_action(a) for a in actions)):
            return False
    return True


def _action(action: Any) -> bool:
    return isinstance(action, dict) and all(isinstance(action.get(key, ""), str) for key in ("action_id", "block_id"))
