"""Named fault points for crash tests: `PROMOBOT_CRASH_AT=<point>` makes the process kill itself there.

The service layer calls `ctx.checkpoint(name)` between an outside action and the step that records it,
and between two persisted steps; the bootstrap wires this module in. Unset (always, outside tests), a
checkpoint does nothing. tests/e2e/test_e2e_crash_harness.py kills `serve` at every point in POINTS.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

ENV = "PROMOBOT_CRASH_AT"

POINTS = (
    # any operation
    "operation.claimed",  # queued -> running committed, before its first step
    # promote, direct
    "promote.commit_pushed",  # the promotion commit is on the branch, its tag not yet pushed
    "promote.branch_pushed",  # commit and tag pushed, branch_updated not yet saved
    "promote.build_requested",  # the build was asked for, awaiting_artifact not yet saved
    # promote through a pull request, and its approval
    "promote.pr_branch_pushed",  # the promotion branch is pushed, no pull request yet
    "promote.pr_opened",  # the pull request is open, pr_open not yet saved
    "approve.recorded",  # the approval is saved, the operation not yet moved on
    "approve.settled",  # the operation is saved as approved, nothing merged yet
    "promote.pr_merged",  # the forge merged the pull request, no tag yet
    "promote.merged",  # merged and tagged, branch_updated not yet saved
    # deploy (promote and auto-deploy)
    "deploy.pin_written",  # the GitOps pin commit is pushed, nothing recorded
    "deploy.recorded",  # the deployment record is saved, the engine not yet told
    # rollback
    "rollback.pin_written",  # the earlier artifact is pinned again, nothing recorded
    "rollback.recorded",  # its deployment record is saved, the engine not yet told
    "rollback.branch_pushed",  # the branch holds the earlier tree again, not yet saved
    # chat (Slack): an operation's first post
    "chat.claimed",  # the first post is claimed in the store, not yet made
    "chat.posted",  # the first post is made, its message id not yet recorded
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
