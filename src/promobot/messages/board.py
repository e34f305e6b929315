"""`/list`: what runs where, one block per app with a field per environment (two columns on a phone)."""

from __future__ import annotations

from datetime import datetime

from promobot import ports
from promobot.messages.blocks import Block, age, context, escape, fields, header, message, section
from promobot.service.queries import Row

ICON = {"healthy": ":large_green_circle:", "progressing": ":large_yellow_circle:", "degraded": ":red_circle:"}
ICON |= {"failed": ":red_circle:", "none": ":white_circle:"}


def board(rows: list[Row], now: datetime) -> ports.ChatMessage:
    apps = list(dict.fromkeys(row.app for row in rows))
    blocks: list[Block] = [header("What runs where")]
    lines: list[str] = []
    for app in apps:
        mine = [row for row in rows if row.app == app]
        blocks.append(section(f"*{escape(app)}*"))
        blocks.extend(fields([_field(row, now) for row in mine]))
        lines.append(app)
        lines.extend(_line(row, now) for row in mine)
    if not apps:
        blocks.append(section("no apps configured"))
    blocks.append(context("`/promote ARTIFACT [ENV]` · `/diff SRC DST` · `/rollback APP ENV`"))
    return message("\n".join(lines) or "no apps configured", blocks)


def _field(row: Row, now: datetime) -> str:
    icon = ICON.get(row.state, ":white_circle:")
    if not row.artifact:
        return f"*{escape(row.env)}*\n{icon} nothing deployed"
    when = " · ".join(part for part in (age(row.deployed_at, now), escape(row.deployed_by)) if part)
    moving = f"\n:arrows_counterclockwise: #{row.operation.id} {row.operation.state}" if row.operation else ""
    tag = row.artifact.split(":", 1)[-1]
    return f"*{escape(row.env)}*\n{icon} `{escape(tag)}` {row.state}\n{when}{moving}"


def _line(row: Row, now: datetime) -> str:
    if not row.artifact:
        return f"  {row.env:<12} -"
    moving = f"  (#{row.operation.id} {row.operation.state})" if row.operation else ""
    when = age(row.deployed_at, now)
    return f"  {row.env:<12} {row.artifact:<24} {row.state:<11} {when:<8} {row.deployed_by}{moving}"
