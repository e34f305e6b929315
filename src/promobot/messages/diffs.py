"""`/diff`: commits (shortened past a limit, with the count), changed files and the exact next command."""

from __future__ import annotations

from promobot import ports
from promobot.messages.blocks import Block, actions, button, context, escape, message, section
from promobot.service.queries import Diff

COMMITS_SHOWN = 10
FILES_SHOWN = 15
CLI = "promobot "


def next_command(diff: Diff) -> str:
    """The chat command that brings `dst` up to `src`, or the reason there is none."""
    if diff.instruction.startswith(CLI):
        return "/" + diff.instruction.removeprefix(CLI)
    return diff.instruction


def diffs(results: list[Diff]) -> ports.ChatMessage:
    blocks: list[Block] = []
    texts: list[str] = []
    for diff in results:
        one, text = _one(diff)
        blocks.extend(one)
        texts.append(text)
    return message("\n\n".join(texts) or "nothing to compare", blocks or [section("nothing to compare")])


def _one(diff: Diff) -> tuple[list[Block], str]:
    head = f"{diff.app}: {diff.src} ({diff.src_artifact or 'nothing'}) vs {diff.dst} ({diff.dst_artifact or 'nothing'})"
    lines = [f"*{escape(head)}*"]
    text = [head]
    shown = diff.commits[:COMMITS_SHOWN]
    if diff.total_commits:
        lines.append(f"{diff.total_commits} commit(s) in {diff.src} not in {diff.dst}:")
        text.append(lines[-1])
        for sha, subject in shown:
            lines.append(f"• `{sha[:7]}` {escape(subject)}")
            text.append(f"  {sha[:7]} {subject}")
        if diff.total_commits > len(shown):
            lines.append(f"… and {diff.total_commits - len(shown)} more")
            text.append(f"  {lines[-1]}")
    if diff.behind:
        lines.append(f"{diff.dst} also has {diff.behind} commit(s) {diff.src} lacks")
        text.append(lines[-1])
    if diff.files:
        listed = ", ".join(diff.files[:FILES_SHOWN]) + (
            f" and {len(diff.files) - FILES_SHOWN} more" if len(diff.files) > FILES_SHOWN else ""
        )
        lines.append(f"{len(diff.files)} file(s) changed: {escape(listed)}")
        text.append(f"{len(diff.files)} file(s) changed: {listed}")
    command = next_command(diff)
    blocks: list[Block] = [section("\n".join(lines))]
    if command.startswith("/"):
        blocks.append(context(f"next: `{escape(command)}`"))
        bare = command.removeprefix("/").split(" (", 1)[0]
        if diff.dst_artifact != diff.src_artifact and bare.startswith("promote "):
            blocks.extend(actions(button(f"Promote to {diff.dst}", "promote", bare, "primary")))
    else:
        blocks.append(context(escape(command)))
    text.append(f"next: {command}")
    return blocks, "\n".join(text)
