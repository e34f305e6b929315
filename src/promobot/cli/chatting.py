"""`promobot chat`: the console chat. Each line typed goes to `POST /api/commands` in the chat grammar; the
answer prints as text, and an operation it started is followed, one line per change, until it ends."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Console
from rich.markup import escape

from promobot.client import FINAL, ApiError, Client

PROMPT = "promobot> "


def run(client: Client, lines: Iterable[str], console: Console, *, poll: float = 0.5, timeout: float = 600.0) -> None:
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if text in ("quit", "exit", "/quit"):
            return
        try:
            answer: dict[str, Any] = client.call("POST", "/api/commands", json={"text": text})
        except ApiError as exc:
            console.print(f"[red]{escape(str(exc))}[/]")
            continue
        console.print(escape(answer["text"]))
        operation = answer.get("operation")
        if operation and text.split()[0].lstrip("/") in ("promote", "rollback", "approve", "promobot"):
            follow(client.status, operation["id"], console, poll=poll, timeout=timeout)


def follow(
    status: Callable[[int], dict[str, Any]], operation: int, console: Console, *, poll: float, timeout: float
) -> None:
    """Print each change of the operation until it ends or waits for approval (Ctrl-C stops following)."""
    seen: tuple[str, str, str] | None = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            current = status(operation)
            now = (current["state"], current["step"], current["message"])
            if now != seen:
                console.print(f"  #{operation} {now[0]} ({now[1]}) {escape(now[2])}")
                seen = now
            if current["state"] in FINAL:
                return
            time.sleep(poll)
    except KeyboardInterrupt:
        console.print(f"  stopped following #{operation}; `/promobot status {operation}` shows it later")


def lines_from(console: Console) -> Iterable[str]:
    while True:
        try:
            yield console.input(PROMPT)
        except EOFError:
            return
