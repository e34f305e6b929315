"""The dashboard's board (`/`, `/board`), `GET /api/list` and the typed `/list` (`POST /api/commands`) share
the process's kept board: a change shows on the next request, and while nothing changed none of them reads
the board from the store again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from promobot import ports
from promobot.service import boards, queries
from support.webapp import Web


class CountingLog:
    """The change log, counting `current_since` (how the kept board reads the pairs that changed)."""

    def __init__(self, log: ports.ChangeLog) -> None:
        self._log = log
        self.pair_reads = 0

    def version(self, floor: int) -> tuple[int, int]:
        return self._log.version(floor)

    def settled(self, before: datetime) -> int:
        return self._log.settled(before)

    def after(self, change_id: int, *, limit: int) -> list[ports.LoggedChange]:
        return self._log.after(change_id, limit=limit)

    def oldest(self) -> int | None:
        return self._log.oldest()

    def current_since(self, change_id: int) -> dict[tuple[str, str], ports.PairSince] | None:
        self.pair_reads += 1
        return self._log.current_since(change_id)


class Counted:
    def __init__(self, web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
        changes = web.application.feed.changes
        assert changes is not None, "serve follows the store's change log"
        self.log = CountingLog(changes)
        web.application.board = boards.KeptBoard(web.application.ctx, self.log)  # before any request
        self.whole = 0
        whole_board = queries.board

        def counted(ctx: object) -> list[queries.Row]:
            self.whole += 1
            return whole_board(ctx)  # type: ignore[arg-type]

        monkeypatch.setattr(queries, "board", counted)

    @property
    def reads(self) -> tuple[int, int]:
        """(whole boards read, changed pairs read)."""
        return self.whole, self.log.pair_reads


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    made = Web(tmp_path / "sandbox")
    yield made
    made.close()


def test_the_dashboard_board_shows_a_change_next_time_and_reads_nothing_while_unchanged(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = Counted(web, monkeypatch)
    web.sign_in()
    assert "qa-aaaaaaa" not in web.http.get("/board").text  # the grid shows each cell's tag
    assert counted.reads == (1, 0)
    web.deployed("web", "qa", "a" * 40)
    assert "qa-aaaaaaa" in web.http.get("/board").text
    assert counted.reads == (1, 1)  # the changed pair, not the whole board
    assert "qa-aaaaaaa" in web.http.get("/board").text
    assert "qa-aaaaaaa" in web.http.get("/").text
    assert web.get("/api/list?app=web&env=qa").json()[0]["artifact"] == "web:qa-aaaaaaa"
    assert counted.reads == (1, 1)  # nothing changed: none of them read the board again


def test_a_typed_list_shows_a_change_next_time_and_reads_nothing_while_unchanged(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = Counted(web, monkeypatch)
    assert "api:prod-bbbbbbb" not in web.post("/api/commands", {"text": "/list"}).json()["text"]
    web.deployed("api", "prod", "b" * 40)
    assert "api:prod-bbbbbbb" in web.post("/api/commands", {"text": "/list"}).json()["text"]
    assert counted.reads == (1, 1)
    assert "api:prod-bbbbbbb" in web.post("/api/commands", {"text": "/list"}).json()["text"]
    assert counted.reads == (1, 1)
