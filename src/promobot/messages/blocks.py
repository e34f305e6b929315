"""Block Kit primitives within Slack's documented limits, and the small text helpers every message shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from promobot import ports

MAX_BLOCKS = 50
SECTION_TEXT = 3000
FIELD_TEXT = 2000
MAX_FIELDS = 10
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
HEADER_TEXT = 150
FALLBACK_TEXT = 3000

ACTION_PREFIX = "promobot."

Block = dict[str, Any]


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Text people or git wrote, made inert in mrkdwn (no mentions, links or formatting from it)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(clip(text, SECTION_TEXT))}


def fields(items: list[str]) -> list[Block]:
    """Sections of two-column fields (readable on a phone), at most ten fields each."""
    return [
        {"type": "section", "fields": [mrkdwn(clip(item, FIELD_TEXT)) for item in items[i : i + MAX_FIELDS]]}
        for i in range(0, len(items), MAX_FIELDS)
    ]


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, HEADER_TEXT)}}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(clip(text, SECTION_TEXT)) for text in texts if text][:10]}


def button(text: str, action: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, BUTTON_TEXT)},
        "action_id": ACTION_PREFIX + action,
        "value": clip(value, BUTTON_VALUE),
    }
    if style:
        element["style"] = style
    return element


def actions(*buttons: Block) -> list[Block]:
    return [{"type": "actions", "elements": list(buttons)}] if buttons else []


def message(text: str, blocks: list[Block]) -> ports.ChatMessage:
    """A message within the limits: at most 50 blocks, the last saying how much was left out."""
    if len(blocks) > MAX_BLOCKS:
        left = len(blocks) - (MAX_BLOCKS - 1)
        blocks = [*blocks[: MAX_BLOCKS - 1], context(f"… {left} more block(s) left out; ask for less at a time")]
    return ports.ChatMessage(text=text, blocks=tuple(blocks))


def plain(text: str) -> ports.ChatMessage:
    return ports.ChatMessage(text=text, blocks=(section(escape(text)),))


def age(when: datetime | None, now: datetime) -> str:
    if when is None:
        return ""
    seconds = int((now - when).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"
