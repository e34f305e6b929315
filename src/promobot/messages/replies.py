"""Short replies to the caller: working on it, help, refusals, history, and who-are-you."""

from __future__ import annotations

from datetime import datetime

from promobot import ports
from promobot.domain import errors, grammar
from promobot.domain.deployments import Deployment
from promobot.messages.blocks import age, context, escape, message, plain, section

WORKING = "Working on it…"


def working() -> ports.ChatMessage:
    return plain(WORKING)


def help_text(topic: str | None = None) -> ports.ChatMessage:
    usage = grammar.usage(topic)
    intro = "promobot moves artifacts through environments. Commands:" if topic is None else "Usage:"
    return message(f"{intro}\n{usage}", [section(intro), section(f"```{escape(usage)}```")])


def refusal(error: errors.PromobotError) -> ports.ChatMessage:
    """A refused command: what was wrong and what would be right; nothing changed."""
    hint = error.hint
    text = f"Refused: {error.message}" + (f"\n{hint}" if hint else "")
    blocks = [section(f":no_entry: {escape(error.message)}")]
    if hint:
        block = f"```{escape(hint)}```" if "\n" in hint else escape(hint)
        blocks.append(context(block) if "\n" not in hint else section(block))
    return message(text, blocks)


def unknown_user(chat_user: str) -> ports.ChatMessage:
    return refusal(
        errors.NotAllowed(
            f"your chat account ({chat_user}) is not a promobot user, so nothing was done",
            f"ask an admin to add `slack_id: {chat_user}` to your user in promobot.yaml",
        )
    )


def already_handled() -> ports.ChatMessage:
    return plain("That click was already handled; nothing more was done. Type the command to do it again.")


def failed_internally() -> ports.ChatMessage:
    return plain("promobot failed to handle this; nothing more was done. The server log has the details.")


def history(app: str, env: str, deployments: list[Deployment], now: datetime) -> ports.ChatMessage:
    lines = [
        f"#{d.id} {d.artifact} {d.state} {age(d.started_at, now)} by {d.deployed_by or '-'}"
        + (f" (operation #{d.operation_id})" if d.operation_id else "")
        for d in deployments[:20]
    ]
    head = f"Deployments of {app} in {env}, newest first"
    body = "\n".join(lines) or "none yet"
    more = f"… {len(deployments) - 20} older" if len(deployments) > 20 else ""
    blocks = [section(f"*{escape(head)}*\n```{escape(body)}```")] + ([context(more)] if more else [])
    return message(f"{head}\n{body}" + (f"\n{more}" if more else ""), blocks)
