"""Text output of the CLI: tables and one-line summaries, with rich."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

STATE_STYLE = {
    "healthy": "green",
    "succeeded": "green",
    "progressing": "yellow",
    "running": "yellow",
    "queued": "yellow",
    "awaiting_approval": "magenta",
    "degraded": "red",
    "failed": "red",
    "cancelled": "dim",
    "none": "dim",
}


def styled(state: str) -> str:
    return f"[{STATE_STYLE.get(state, 'white')}]{state}[/]"


def age(stamp: str | None) -> str:
    if not stamp:
        return ""
    when = datetime.fromisoformat(stamp)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = int((datetime.now(UTC) - when).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


def operation(console: Console, op: dict[str, Any]) -> None:
    console.print(
        f"operation {op['id']}: {op['kind']} {op['artifact']} -> {op['env']}: {styled(op['state'])}"
        + (f" - {op['message']}" if op.get("message") else "")
    )


def board(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table("app", "env", "artifact", "source", "state", "deployed", "by", "url", "in flight")
    for row in rows:
        moving = row.get("operation")
        table.add_row(
            row["app"],
            row["env"],
            row["artifact"] or "-",
            row["source_revision"][:7],
            styled(row["state"]),
            age(row["deployed_at"]),
            row["deployed_by"],
            row["url"],
            f"#{moving['id']} {moving['state']}" if moving else "",
        )
    console.print(table)


def history(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table("#", "artifact", "source", "state", "started", "by", "operation", "message")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["artifact"],
            row["source_revision"][:7],
            styled(row["state"]),
            age(row["started_at"]),
            row["deployed_by"],
            str(row["operation_id"] or ""),
            row["message"],
        )
    console.print(table)


def status(console: Console, op: dict[str, Any]) -> None:
    operation(console, op)
    if op.get("pr_url"):
        console.print(f"  pull request: {op['pr_url']}")
    for event in op.get("events", []):
        console.print(f"  {event['at'][11:19]}  {event['state']:<17} {event['step']:<17} {event['message']}")


def diff(console: Console, result: dict[str, Any]) -> None:
    console.print(
        f"[bold]{result['app']}[/]: {result['src']} ({result['src_artifact'] or 'nothing'}) vs "
        f"{result['dst']} ({result['dst_artifact'] or 'nothing'})"
    )
    commits = result["commits"]
    if commits:
        console.print(f"  {result['total_commits']} commit(s) in {result['src']} not in {result['dst']}:")
        for commit in commits:
            console.print(f"    {commit['sha'][:7]} {commit['subject']}")
        if result["total_commits"] > len(commits):
            console.print(f"    ... and {result['total_commits'] - len(commits)} more")
    if result.get("behind"):
        console.print(f"  {result['dst']} also has {result['behind']} commit(s) {result['src']} lacks")
    if result["files"]:
        console.print(f"  {len(result['files'])} file(s) changed: {', '.join(result['files'][:20])}")
    console.print(f"  next: {result['instruction']}")


def lock(console: Console, found: dict[str, Any]) -> None:
    reason = f" ({found['reason']})" if found.get("reason") else ""
    console.print(f"[red]{found['env']}[/] is locked by {found['by']} since {found['at'][:16]}{reason}")


def locks(console: Console, found: list[dict[str, Any]]) -> None:
    for one in found:
        lock(console, one)
    if not found:
        console.print("no environment is locked")


def audit(console: Console, entries: list[dict[str, Any]]) -> None:
    table = Table("#", "at", "actor", "action", "subject", "outcome", "detail")
    for entry in entries:
        outcome = entry["outcome"]
        shown = f"[red]{outcome}[/]" if outcome in ("refused", "failed") else styled(outcome)
        table.add_row(
            str(entry["id"]),
            entry["at"][:19],
            entry["actor"],
            entry["action"],
            entry["subject"],
            shown,
            entry["detail"],
        )
    console.print(table)
