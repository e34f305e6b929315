"""The board kept per process (`service/boards.py`): read once, then only the pairs the change log names,
so chat's `list`, the dashboard and the API show a change at once and read nothing while nothing changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest

from promobot import ports
from promobot.adapters.store.change_log import SqlChangeLog
from promobot.domain.deployments import Deployment, Health
from promobot.domain.operations import Kind, Operation, State, Step
from promobot.service import boards, chatting, queries
from promobot.service.context import Context
from support.fakes import World

Make = Callable[..., tuple[Context, World]]
APPS = ("web", "api", "db")


class CountingStore:
    """The store, counting its units of work (every read the board makes goes through one)."""

    def __init__(self, store: ports.Store) -> None:
        self._store = store
        self.units = 0

    @contextmanager
    def unit_of_work(self) -> Iterator[Any]:
        self.units += 1
        with self._store.unit_of_work() as uow:
            yield uow

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class Kept:
    """A context whose store counts its reads, its kept board, and how often the whole board was read."""

    def __init__(self, ctx: Context, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ctx, self.world = ctx, world
        self.store = CountingStore(ctx.store)
        ctx.store = self.store  # type: ignore[assignment]
        self.log = SqlChangeLog(world.stores[-1].engine)
        self.board = boards.KeptBoard(ctx, self.log)
        self.whole = 0
        whole_board = queries.board

        def counted(ctx: Context) -> list[queries.Row]:
            self.whole += 1
            return whole_board(ctx)

        monkeypatch.setattr(queries, "board", counted)
        self.afresh = whole_board

    def deploy(self, *pairs: tuple[str, str], tag: str = "dev-1111111", state: Health = Health.HEALTHY) -> None:
        with self.world.stores[-1].unit_of_work() as uow:
            for app, env in pairs:
                uow.deployments.add(
                    Deployment(
                        app=app, env=env, tag=tag, digest="sha256:" + "a" * 64, source_revision="a" * 40,
                        revision="b" * 40, state=state, deployed_by="developer",
                    )
                )  # fmt: skip
            uow.commit()


@pytest.fixture
def kept(build: Make, monkeypatch: pytest.MonkeyPatch) -> Kept:
    ctx, world = build(apps=APPS)
    return Kept(ctx, world, monkeypatch)


def _row(board: boards.Board, app: str, env: str) -> queries.Row:
    return next(row for row in board.rows if (row.app, row.env) == (app, env))


def test_an_unchanged_board_is_answered_without_reading_the_store(kept: Kept) -> None:
    kept.deploy(("web", "qa"))
    first = kept.board.board()
    units = kept.store.units
    again = kept.board.board()
    assert again is first and kept.store.units == units and kept.whole == 1
    assert _row(again, "web", "qa").artifact == "web:dev-1111111"


def test_a_change_shows_on_the_next_board_and_only_its_row_is_made_again(kept: Kept) -> None:
    before = kept.board.board()
    kept.deploy(("api", "prod"), tag="prod-2222222")
    after = kept.board.board()
    assert _row(after, "api", "prod").artifact == "api:prod-2222222"
    assert after.rows == kept.afresh(kept.ctx) and kept.whole == 1  # brought up to date, not read whole
    moved = [n for n, (row, was) in enumerate(zip(after.rows, before.rows, strict=True)) if row is not was]
    assert [(after.rows[n].app, after.rows[n].env) for n in moved] == [("api", "prod")]


def test_every_pair_changed_at_once_is_read_by_pair_not_whole(kept: Kept) -> None:
    kept.board.board()
    every = [(app, env) for app in APPS for env in kept.ctx.pipeline.env_names]
    kept.deploy(*every, tag="qa-3333333", state=Health.FAILED)
    after = kept.board.board()
    assert {(row.artifact.split(":")[1], row.state) for row in after.rows} == {("qa-3333333", "failed")}
    assert after.rows == kept.afresh(kept.ctx) and kept.whole == 1


def test_a_log_pruned_past_the_kept_board_reads_the_whole_board_again(kept: Kept) -> None:
    kept.deploy(("web", "qa"))
    kept.board.board()
    kept.deploy(("web", "prod"))
    kept.deploy(("db", "qa"), tag="qa-4444444")
    kept.log.prune(before=datetime.max.replace(tzinfo=kept.world.clock.at.tzinfo) - timedelta(days=1), keep=1)
    after = kept.board.board()  # the web/prod change is gone from the log: only a whole read sees it
    assert kept.whole == 2 and after.rows == kept.afresh(kept.ctx)
    assert _row(after, "web", "prod").artifact == "web:dev-1111111"


def test_chat_list_shows_the_kept_board_and_reads_nothing_while_it_is_unchanged(kept: Kept) -> None:
    commands = chatting.ChatCommands(kept.ctx, {"U1": "developer"}, board=kept.board)
    said = ports.ChatRequest(chat_user="U1", channel="#deploys", text="/list")
    assert "web:dev-1111111" not in commands.handle(said).text
    kept.deploy(("web", "staging"))
    assert "web:dev-1111111" in commands.handle(said).text
    units = kept.store.units
    assert "web:dev-1111111" in commands.handle(said).text
    assert kept.store.units == units and kept.whole == 1


def test_operations_are_read_again_only_when_one_of_a_changed_pair_changed(kept: Kept) -> None:
    kept.board.board()
    with kept.world.stores[-1].unit_of_work() as uow:
        moving = uow.operations.add(
            Operation(
                kind=Kind.PROMOTE, app="api", env="qa", artifact="api:dev-5555555", requested_by="developer",
                source_revision="a" * 40, target_tag="qa-5555555", state=State.RUNNING, step=Step.REQUESTED,
            )
        )  # fmt: skip
        uow.commit()
    units = kept.store.units
    after = kept.board.board()
    assert kept.store.units == units + 1  # the running operations, read once
    moved = _row(after, "api", "qa").operation
    assert moved is not None and moved.id == moving.id
    kept.deploy(("api", "qa"), tag="qa-6666666", state=Health.PROGRESSING)  # a deployment alone
    after = kept.board.board()
    assert kept.store.units == units + 1  # no operation changed: the row keeps the one it holds
    assert (_row(after, "api", "qa").artifact, _row(after, "api", "qa").operation) == ("api:qa-6666666", moved)
    assert after.rows == kept.afresh(kept.ctx)
