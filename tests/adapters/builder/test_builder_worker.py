"""The builder's worker thread: builds what `submit` queues, reports each result once, and stops cleanly."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from builder_remote import Remote
from structlog.testing import capture_logs

from promobot.adapters.builder.local import LocalBuilder
from promobot.domain import errors
from promobot.domain.events import ArtifactBuilt
from support.running import until

FILES = {"app.py": "print('hello')\n"}


class Reports:
    """A report callback that records deliveries, optionally failing its first `failures` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.delivered: list[ArtifactBuilt] = []
        self.arrived = threading.Event()

    def __call__(self, built: ArtifactBuilt) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("the service is not listening yet")
        self.delivered.append(built)
        self.arrived.set()


def test_the_worker_builds_submitted_commits_reports_them_and_stops_cleanly(
    remote: Remote, make_builder: Callable[..., LocalBuilder]
) -> None:
    sha = remote.commit("develop", FILES)
    reports = Reports()
    builder = make_builder(reports)
    builder.start()

    builder.submit(app="web", branch="develop", revision=sha)

    assert reports.arrived.wait(30)
    builder.stop()
    assert [(b.tag, b.revision) for b in reports.delivered] == [(f"dev-{sha[:7]}", sha)]
    assert not [t for t in threading.enumerate() if t.name == "promobot-builder"]


def test_a_report_that_fails_twice_then_succeeds_is_delivered_exactly_once(
    remote: Remote, make_builder: Callable[..., LocalBuilder]
) -> None:
    sha = remote.commit("develop", FILES)
    reports = Reports(failures=2)
    builder = make_builder(reports, report_backoff=0.01)
    builder.start()

    builder.submit(app="web", branch="develop", revision=sha)

    assert reports.arrived.wait(30)
    builder.stop()
    assert reports.calls == 3
    assert len(reports.delivered) == 1


def test_stopping_while_a_report_is_retried_ends_at_once_and_says_the_restart_will_report_it(
    remote: Remote, make_builder: Callable[..., LocalBuilder]
) -> None:
    sha = remote.commit("develop", FILES)
    reports = Reports(failures=1_000)  # the server has stopped listening for good
    builder = make_builder(reports, report_backoff=60.0, report_attempts=5)
    builder.start()
    builder.submit(app="web", branch="develop", revision=sha)
    until(lambda: reports.calls, 30, "the first report to be tried")

    with capture_logs() as logs:
        builder.stop(timeout=20)

    assert not [t for t in threading.enumerate() if t.name == "promobot-builder"]  # not waiting out 60 s backoffs
    assert reports.calls == 1
    assert [e["event"] for e in logs if e["log_level"] != "debug"] == ["builder.report_left_for_restart"]


def test_a_failing_build_does_not_stop_the_worker(remote: Remote, make_builder: Callable[..., LocalBuilder]) -> None:
    sha = remote.commit("develop", FILES)
    reports = Reports()
    builder = make_builder(reports)
    builder.start()

    builder.submit(app="web", branch="develop", revision="0" * 40)
    builder.submit(app="web", branch="develop", revision=sha)

    assert reports.arrived.wait(30)
    builder.stop()
    assert [b.revision for b in reports.delivered] == [sha]


def test_pushes_to_branches_that_are_not_environments_are_ignored(
    remote: Remote, make_builder: Callable[..., LocalBuilder]
) -> None:
    feature = remote.commit("feature/login", FILES)
    develop = remote.commit("develop", FILES)
    reports = Reports()
    builder = make_builder(reports)
    builder.start()

    with capture_logs() as logs:
        builder.submit(app="web", branch="feature/login", revision=feature)
    builder.submit(app="web", branch="develop", revision=develop)

    assert reports.arrived.wait(30)
    builder.stop()
    assert [b.revision for b in reports.delivered] == [develop]
    assert [(e["event"], e["log_level"], e["branch"]) for e in logs] == [
        ("builder.ignored_branch", "debug", "feature/login")
    ]


def test_submitting_an_unknown_app_is_refused(make_builder: Callable[..., LocalBuilder]) -> None:
    with pytest.raises(errors.UnknownApp, match="unknown app 'api'"):
        make_builder().submit(app="api", branch="develop", revision="1a2b3c4")


def test_submitting_something_that_is_not_a_commit_id_is_refused(make_builder: Callable[..., LocalBuilder]) -> None:
    with pytest.raises(errors.InvalidReference):
        make_builder().submit(app="web", branch="develop", revision="--upload-pack=evil")
