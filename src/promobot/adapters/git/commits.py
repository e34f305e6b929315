"""Reading commits out of `git log` output into ports.Commit values, trailers parsed."""

from __future__ import annotations

from promobot import ports
from promobot.domain import trailers

# One record per commit: fields split by NUL, records ended by RS (0x1e), which commit messages never hold.
FORMAT = "--format=%H%x00%T%x00%P%x00%an%x00%s%x00%B%x1e"


def parse(text: str) -> list[ports.Commit]:
    found = []
    for record in text.split("\x1e"):
        record = record.lstrip("\n")
        if not record:
            continue
        sha, tree, parents, author, subject, body = record.split("\x00", 5)
        found.append(
            ports.Commit(
                sha=sha,
                subject=subject,
                author=author,
                tree=tree,
                parents=tuple(parents.split()),
                trailers=trailers.parse(body),
            )
        )
    return found
