"""Chat replies about release freezes: locked, unlocked, and which environments are locked."""

from __future__ import annotations

from promobot import ports
from promobot.domain.locks import Lock, describe
from promobot.messages.blocks import escape, message, section


def locked(lock: Lock) -> ports.ChatMessage:
    text = f"{describe(lock)}. Promotions into {lock.env} wait or are refused until `/unlock {lock.env}`."
    return message(text, [section(f":lock: {escape(text)}")])


def unlocked(lock: Lock, by: str) -> ports.ChatMessage:
    text = f"{lock.env} is unlocked by {by} (it was locked by {lock.by}); promotions go in again."
    return message(text, [section(f":unlock: {escape(text)}")])


def locks(found: list[Lock]) -> ports.ChatMessage:
    lines = [describe(lock) for lock in found] or ["no environment is locked"]
    text = "\n".join(lines)
    return message(text, [section(escape(text))])
