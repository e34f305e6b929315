"""Read-only use cases: list, history, status and diff."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Generic, NamedTuple, TypeVar

from promobot import ports
from promobot.domain import errors
from promobot.domain.deployments import Deployment, Health
from promobot.domain.operations import Operation, OperationEvent, State
from promobot.domain.pipeline import Environment
from promobot.service.context import Context

DIFF_COMMIT_LIMIT = 50
T = TypeVar("T")


class Row(NamedTuple):
    """One app in one environment on the board (a tuple: `board` makes thousands of them)."""

    app: str
    env: str
    artifact: str
    source_revision: str
    state: str
    deployed_at: datetime | None
    deployed_by: str
    url: str
    operation: Operation | None = None


def board(ctx: Context) -> list[Row]:
    """Every app and environment, in pipeline order: what it runs, how that went, and what is moving."""
    with ctx.store.unit_of_work() as uow:
        current = {(d.app, d.env): d for d in uow.deployments.current_all()}
        moving = _moving(uow.operations.active())
    return [
        row(app.name, env.name, current.get((app.name, env.name)), moving.get((app.name, env.name)))
        for app in ctx.pipeline.apps
        for env in ctx.pipeline.environments
    ]


def moving(ctx: Context) -> dict[tuple[str, str], Operation]:
    """The operation each (app, env) shows as moving it, for those that have one."""
    with ctx.store.unit_of_work() as uow:
        return _moving(uow.operations.active())


def _moving(active: list[Operation]) -> dict[tuple[str, str], Operation]:
    moving: dict[tuple[str, str], Operation] = {}
    for op in active:
        moving.setdefault((op.app, op.env), op)
    return moving


def row(app: str, env: str, d: Deployment | None, operation: Operation | None) -> Row:
    """One row of the board: what `app` runs in `env` (`d`, None for nothing) and what moves it."""
    if d is None:
        return Row(app, env, "", "", Health.NONE.value, None, "", "", operation)
    return Row(
        app, env, d.artifact, d.source_revision, d.state.value, d.finished_at or d.started_at, d.deployed_by, d.url,
        operation,
    )  # fmt: skip


def only(ctx: Context, rows: list[Row], *, app: str | None = None, env: str | None = None) -> list[Row]:
    """The board's rows of one app, one environment, or both (each name checked against the pipeline)."""
    if app is not None:
        app = ctx.pipeline.app(app).name
    if env is not None:
        env = ctx.pipeline.env(env).name
    return [row for row in rows if (app is None or row.app == app) and (env is None or row.env == env)]


def history(ctx: Context, app: str, env: str, limit: int = 50) -> list[Deployment]:
    ctx.pipeline.app(app)
    ctx.pipeline.env(env)
    with ctx.store.unit_of_work() as uow:
        return uow.deployments.history(app, env, limit=limit)


def status(ctx: Context, operation_id: int) -> tuple[Operation, list[OperationEvent]]:
    with ctx.store.unit_of_work() as uow:
        operation = uow.operations.get(operation_id)
        if operation is None:
            raise errors.UnknownOperation(f"no operation {operation_id}", "see recent ones with `promobot list`")
        return operation, uow.operations.events(operation_id)


def recent(ctx: Context, limit: int = 20) -> list[Operation]:
    with ctx.store.unit_of_work() as uow:
        return uow.operations.recent(limit=limit)


@dataclass(frozen=True)
class Diff:
    app: str
    src: str
    dst: str
    src_artifact: str
    dst_artifact: str
    src_revision: str
    dst_revision: str
    commits: list[tuple[str, str]] = field(default_factory=list)
    total_commits: int = 0
    behind: int = 0  # commits dst has that src lacks
    files: list[str] = field(default_factory=list)
    instruction: str = ""


def diff(ctx: Context, src: str, dst: str, app: str | None = None) -> list[Diff]:
    source, target = ctx.pipeline.env(src), ctx.pipeline.env(dst)
    if source == target:
        raise errors.InvalidReference("diff needs two different environments", f"e.g. `diff {src} <other>`")
    with ctx.store.unit_of_work() as uow:
        if app:
            name = ctx.pipeline.app(app).name
            pairs = [(name, uow.deployments.current(name, src), uow.deployments.current(name, dst))]
        else:  # every app: one query for all of them, not two per app
            current = {(d.app, d.env): d for d in uow.deployments.current_all() if d.env in (src, dst)}
            pairs = [(a, current.get((a, src)), current.get((a, dst))) for a in ctx.pipeline.app_names]
    return [_one(ctx, a, source, target, s, d) for a, s, d in pairs]


def _one(
    ctx: Context, app: str, src: Environment, dst: Environment, s: Deployment | None, d: Deployment | None
) -> Diff:
    base = Diff(
        app=app,
        src=src.name,
        dst=dst.name,
        src_artifact=s.artifact if s else "",
        dst_artifact=d.artifact if d else "",
        src_revision=s.source_revision if s else "",
        dst_revision=d.source_revision if d else "",
    )
    if s is None:
        return replace(base, instruction=f"{src.name} runs nothing for {app}; nothing to bring over")
    if d is not None and d.source_revision == s.source_revision:
        return replace(base, instruction=f"nothing to do: {dst.name} already runs the same source as {src.name}")
    repo = ctx.repo(app)
    files: list[str] = []
    commits: list[tuple[str, str]] = []
    total = behind = 0
    # Against what dst runs; when it runs nothing yet, against what its branch holds (fetched fresh).
    if d is None:
        repo.refresh()
    since = d.source_revision if d is not None else repo.branch_head(dst.branch)
    if since is not None:
        try:
            commits, total, behind, files = _between(repo, since, s.source_revision)
        except errors.PromobotError:
            if d is None:
                raise
            repo.refresh()  # two deployed commits the mirror has not fetched yet: fetch, then once more
            commits, total, behind, files = _between(repo, since, s.source_revision)
    command = f"promobot promote {s.artifact} {dst.name}"
    rule = (
        f" (opens a pull request; needs {dst.approval.approvals} approval(s) from "
        f"{', '.join(sorted(dst.approval.approvers))})"
        if dst.approval.required
        else " (direct)"
    )
    return replace(base, commits=commits, total_commits=total, behind=behind, files=files, instruction=command + rule)


def _between(repo: ports.AppRepo, since: str, until: str) -> tuple[list[tuple[str, str]], int, int, list[str]]:
    """Commits in `until` not in `since` (newest first, the first DIFF_COMMIT_LIMIT), their count, how many
    `since` has that `until` lacks, and the changed files. Commit ids never change meaning, so a warm
    mirror that has both answers without a fetch."""
    found, total = repo.log(since, until, limit=DIFF_COMMIT_LIMIT)
    behind = repo.log(until, since, limit=0)[1]
    return [(c.sha, c.subject) for c in found], total, behind, repo.changed_files(since, until)


def waiting_for(ctx: Context, state: State = State.AWAITING_APPROVAL) -> list[Operation]:
    with ctx.store.unit_of_work() as uow:
        return [op for op in uow.operations.active() if op.state is state]


OPERATION_SCAN = 5000  # a state filter reads at most this many recent operations (the port has no state query)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a newest-first listing, and whether more follow it."""

    items: list[T]
    more: bool


def operations(
    ctx: Context,
    *,
    app: str | None = None,
    env: str | None = None,
    state: State | None = None,
    limit: int = 20,
    offset: int = 0,
) -> Page[Operation]:
    """Operations newest first, optionally of one app, environment or state; `offset` skips the newest."""
    if app is not None:
        ctx.pipeline.app(app)
    if env is not None:
        ctx.pipeline.env(env)
    wanted = offset + limit + 1
    with ctx.store.unit_of_work() as uow:
        found = uow.operations.recent(app=app, env=env, limit=wanted if state is None else OPERATION_SCAN)
    if state is not None:
        found = [op for op in found if op.state is state]
    return Page(found[offset : offset + limit], len(found) > offset + limit)


def history_page(ctx: Context, app: str, env: str, *, limit: int = 50, offset: int = 0) -> Page[Deployment]:
    """Deployments of `app` in `env`, newest first, skipping the `offset` newest."""
    found = history(ctx, app, env, offset + limit + 1)
    return Page(found[offset : offset + limit], len(found) > offset + limit)
