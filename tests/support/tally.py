"""Counts a suite wants shown at the end of a plain `pytest -q` run (fault points, operations, ...).

    tally.add("crash harness [sqlite]", "fault points", 15)

support/summary.py (a pytest plugin, `-p support.summary` in pyproject.toml) prints them in pytest's
terminal summary, one line per suite.
"""

from __future__ import annotations

COUNTS: dict[str, dict[str, int]] = {}


def add(suite: str, what: str, n: int = 1) -> None:
    counts = COUNTS.setdefault(suite, {})
    counts[what] = counts.get(what, 0) + n


def lines() -> list[str]:
    return [f"{suite}: " + ", ".join(f"{n} {what}" for what, n in counts.items()) for suite, counts in COUNTS.items()]
