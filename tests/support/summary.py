"""A pytest plugin (`-p support.summary` in pyproject): print the counts the suites tallied at the end."""

from __future__ import annotations

import pytest

from support import tally


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    found = tally.lines()
    if found:
        terminalreporter.section("counts")
        for line in found:
            terminalreporter.write_line(line)
