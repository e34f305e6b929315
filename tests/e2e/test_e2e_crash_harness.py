"""SIGKILL at every fault point: real `promobot serve` on a sandbox, SQLite and PostgreSQL.

For each point in `promobot.faults.POINTS`, serve starts with PROMOBOT_CRASH_AT=<point>, an operation is
driven until serve kills itself there, serve starts again without it, and the operation must end having
happened exactly once, with git, registry and database agreeing (`support.crashing.Crasher.problems`), and
with exactly one Slack message (`Crasher.chat_problems`): serve reports to a fake Slack in this process,
which outlives every kill. One sandbox per database serves every point: four develop commits each travel
development → qa → prod (pull request and approval), then qa, prod and development are rolled back. Both
databases run at once.
"""

from __future__ import annotations

import contextlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from promobot import faults
from support import databases, tally
from support.crashing import Crasher, report_to
from support.fake_slack import FakeSlack
from support.running import Setup, until

pytestmark = pytest.mark.slow

# The point that interrupts each move of one commit's journey; None: that move runs without a crash.
# (develop push, promote to qa, pull request into prod, its approval)
JOURNEYS = (
    (None, "operation.claimed", "promote.pr_branch_pushed", "approve.recorded"),
    ("deploy.pin_written", "promote.commit_pushed", "promote.pr_opened", "approve.settled"),
    ("deploy.recorded", "promote.branch_pushed", "chat.posted", "promote.pr_merged"),
    ("chat.claimed", "promote.build_requested", None, "promote.merged"),
)
CHAT_SETTLES = 90  # seconds: a claim whose poster was killed is taken over once it is 30 s old
ROLLBACKS = (("qa", "rollback.pin_written"), ("prod", "rollback.recorded"), ("development", "rollback.branch_pushed"))
ENVS = ("development", "qa", "prod")  # the last needs a pull request and an approval


class Run:
    """One database's run: the sandbox's crasher and the operations checked so far."""

    def __init__(self, crash: Crasher) -> None:
        self.crash = crash
        self.checked: list[int] = []

    def done(self, started: int | None, why: str) -> None:
        operation_id = self.crash.resolve(started)
        self.crash.wait(operation_id)
        problems = self.crash.problems(operation_id)
        assert not problems, f"after {why}: {problems}\n{self.crash.s.log_text()}"
        self.checked.append(operation_id)

    def journey(self, work: Path, version: int, points: tuple[str | None, ...]) -> None:
        """A develop commit (version 0: the sandbox's first) carried into prod, one point per move."""
        crash, s = self.crash, self.crash.s
        pushed, to_qa, opened, approved = points
        if version == 0:
            sha = s.git("rev-parse", "develop")
        else:
            sha = crash.at(pushed, lambda: s.push(work, f"Release {version}", {"RELEASE": f"{version}\n"}))
            self.done(crash.deployed(sha), f"develop push {version} ({pushed})")
        short = sha[:7]
        self.done(crash.at(to_qa, lambda: crash.promote(f"web:dev-{short}", "qa")), f"to qa ({to_qa})")
        pull = crash.resolve(crash.at(opened, lambda: crash.promote(f"web:qa-{short}", "prod")))
        crash.wait(pull, ("awaiting_approval",))
        self.done(crash.at(approved, lambda: crash.approve(pull)), f"into prod ({opened}, {approved})")

    def chat_left(self) -> dict[int, list[str]]:
        """The checked operations whose Slack message is not (yet) one top-level post saying it succeeded."""
        found = {operation_id: self.crash.chat_problems(operation_id) for operation_id in self.checked}
        return {operation_id: problems for operation_id, problems in found.items() if problems}

    def rollback(self, env: str, point: str) -> None:
        self.done(self.crash.at(point, lambda: self.crash.rollback(env)), f"rollback of {env} ({point})")


def scenario(kind: str, root: Path, url: str | None) -> Run:
    """Every fault point, in order, on one sandbox of database `kind`."""
    setup = Setup(root, database_url=url, envs=ENVS)
    setup.start_timeout = 90.0  # a loaded CI machine starts Python slowly; each point starts serve twice
    slack = FakeSlack().start()
    report_to(setup, slack)
    setup.start()
    run = Run(Crasher(setup, slack))
    try:
        until(lambda: run.crash.row("development")["state"] == "healthy", 30, "the first develop commit to deploy")
        work = setup.clone()
        for version, points in enumerate(JOURNEYS):
            run.journey(work, version, points)
        for env, point in ROLLBACKS:
            run.rollback(env, point)
        deadline = time.monotonic() + CHAT_SETTLES
        while (left := run.chat_left()) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not left, f"Slack, {CHAT_SETTLES}s after the last operation: {left}"
    except AssertionError:
        print(setup.log_text())
        raise
    finally:
        setup.stop()
        slack.stop()
        tally.add(f"crash harness [{kind}]", "Slack messages checked", len(slack.top_level()))
        tally.add(f"crash harness [{kind}]", "fault points exercised", len(run.crash.points))
        tally.add(f"crash harness [{kind}]", "operations checked", len(run.checked))
    return run


@pytest.mark.timeout(900)  # the chat.claimed point waits 30 s for its stale claim
def test_every_fault_point_ends_with_its_operation_done_once_and_git_registry_and_database_agreeing(
    tmp_path: Path,
) -> None:
    """Both databases at once, one thread each: most of the time goes on waiting for processes."""
    postgresql = bool(os.environ.get(databases.ENV, "").strip())
    kinds = [databases.SQLITE, databases.POSTGRESQL] if postgresql else [databases.SQLITE]
    with contextlib.ExitStack() as stack, ThreadPoolExecutor(len(kinds)) as pool:
        urls = {kind: stack.enter_context(databases.fresh(kind, tmp_path / kind / "db")) for kind in kinds}
        runs = {
            kind: pool.submit(scenario, kind, tmp_path / kind / "sandbox", None if kind == databases.SQLITE else url)
            for kind, url in urls.items()
        }
        for run in runs.values():
            assert sorted(run.result().crash.points) == sorted(faults.POINTS), "every point, each once"
    if not postgresql:
        databases.postgresql_base_url()  # skips (or fails in CI): the PostgreSQL half did not run
