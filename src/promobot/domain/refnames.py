"""Which branch names promobot accepts: git's own ref-name rules, minus anything that could read as an option."""

from __future__ import annotations

import re

RULE = (
    "must be a git branch name: letters, digits, '.', '_', '-' and '/' between parts; no part starting "
    "with '.' or '-' or ending in '.lock'; no '..', '//' or trailing '/'; not HEAD"
)
_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def is_branch_name(value: str) -> bool:
    if not value or len(value) > 200 or ".." in value or value.endswith(("/", ".")) or value == "HEAD":
        return False
    parts = value.split("/")
    return all(_PART.match(part) and not part.endswith(".lock") for part in parts)
