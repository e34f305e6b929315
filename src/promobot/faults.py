"""Named fault points for crash tests: `PROMOBOT_CRASH_AT=<point>` makes the process kill itself there.

The service layer calls `ctx.checkpoint(name)` between an outside action and the step that records it;
the bootstrap wires this module in. Unset (always, outside tests), a checkpoint does nothing.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

ENV = "PROMOBOT_CRASH_AT"

POINTS = (
    "promote.branch_pushed",
    "promote.pr_opened",
    "promote.merged",
    "deploy.pin_written",
    "rollback.pin_written",
    "rollback.branch_pushed",
)


def from_environment() -> Callable[[str], None]:
    target = os.environ.get(ENV, "").strip()
    if not target:
        return _nothing
    if target not in POINTS:
        raise ValueError(f"{ENV}={target!r} names no fault point; use one of: {', '.join(POINTS)}")

    def checkpoint(name: str) -> None:
        if name == target:
            os.kill(os.getpid(), signal.SIGKILL)

    return checkpoint


def _nothing(_: str) -> None:
    return None
