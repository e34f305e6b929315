"""What people read: the board of apps x environments, and the diff between two environments."""

from __future__ import annotations

from collections.abc import Callable

from promobot.domain.operations import State
from promobot.service import queries, requests
from promobot.service.context import Context
from support.fakes import DEVELOPER, World

Wired = tuple[Context, World]
Make = Callable[..., Wired]


def test_the_board_shows_every_app_and_environment_with_none_where_nothing_runs(build: Make) -> None:
    ctx, world = build(apps=("web", "api"))
    dev = world.developed(ctx)
    world.clock.advance(minutes=1)
    world.report(ctx, "development", url="http://127.0.0.1:9000")

    rows = queries.board(ctx)

    assert [(r.app, r.env) for r in rows] == [
        (app, env) for app in ("web", "api") for env in ("development", "qa", "staging", "prod")
    ]
    [web_dev] = [r for r in rows if (r.app, r.env) == ("web", "development")]
    assert (web_dev.artifact, web_dev.source_revision, web_dev.state) == (
        f"web:{dev.tag}",
        dev.source_revision,
        "healthy",
    )
    assert (web_dev.deployed_by, web_dev.url, web_dev.operation) == ("developer", "http://127.0.0.1:9000", None)
    assert web_dev.deployed_at is not None
    empty = [r for r in rows if (r.app, r.env) != ("web", "development")]
    assert {(r.artifact, r.state, r.deployed_at, r.operation) for r in empty} == {("", "none", None, None)}


def test_the_board_shows_the_operation_moving_an_environment(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = requests.promote(ctx, DEVELOPER, dev.tag)
    world.settle(ctx)

    [qa] = [r for r in queries.board(ctx) if r.env == "qa"]

    assert qa.state == "none"
    assert qa.operation is not None
    assert (qa.operation.id, qa.operation.state) == (operation.id, State.RUNNING)


def test_diff_lists_commits_files_and_the_exact_promote_command(wired: Wired) -> None:
    ctx, world = wired
    first = world.developed(ctx)
    world.promoted(ctx, first.tag, "qa")
    world.repos["web"].add_commit("develop", {"api.py": "print('hi')\n"}, subject="Add the api")
    second = world.developed(ctx, files={"app.py": "v2\n"})

    [diff] = queries.diff(ctx, "development", "qa")

    assert (diff.src_artifact, diff.dst_artifact) == (f"web:{second.tag}", f"web:qa-{first.tag[4:]}")
    assert (diff.src_revision, diff.dst_revision) == (second.source_revision, first.source_revision)
    subjects = [subject for _, subject in diff.commits]
    assert subjects[1] == "Add the api"
    assert diff.commits[0][0] == second.source_revision
    assert (diff.total_commits, diff.behind) == (2, 0)
    assert diff.files == ["api.py", "app.py"]
    assert diff.instruction == f"promobot promote web:{second.tag} qa (direct)"


def test_diff_into_prod_names_the_pull_request_and_approvals_it_takes(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    staging = world.promoted(ctx, dev.tag, "staging")

    [diff] = queries.diff(ctx, "staging", "prod")

    rule = "opens a pull request; needs 1 approval(s) from release-manager"
    assert diff.instruction == f"promobot promote web:{staging.target_tag} prod ({rule})"
    assert diff.dst_artifact == ""
    # prod runs nothing yet: the diff is against what its branch holds
    assert diff.commits == [(dev.source_revision, world.repos["web"].commit(dev.source_revision).subject)]
    assert diff.files == ["app.py"]


def test_diff_of_environments_running_the_same_source_says_nothing_to_do(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    world.promoted(ctx, dev.tag, "qa")

    [diff] = queries.diff(ctx, "development", "qa")

    assert diff.instruction == "nothing to do: qa already runs the same source as development"
    assert diff.commits == []


def test_status_shows_the_operations_trail_oldest_first(wired: Wired) -> None:
    ctx, world = wired
    dev = world.developed(ctx)
    operation = world.promoted(ctx, dev.tag, "qa")

    _, events = queries.status(ctx, operation.id or 0)

    assert events[0].step == "requested"
    assert events[-1].message == operation.message
    assert [e.state for e in events][-1] is State.SUCCEEDED
