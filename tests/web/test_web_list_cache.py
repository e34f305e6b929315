"""`GET /api/list` answers from a copy kept until the store's change counter moves: an `ETag` that a client
sends back gets a 304 while nothing changed, and the new board as soon as something did; `?app=` and
`?env=` answer part of the board."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from promobot.domain.deployments import Health
from promobot.domain.operations import State
from promobot.service import queries
from promobot.web import board_cache
from promobot.web.schemas import RowOut
from support.webapp import Web


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    made = Web(tmp_path / "sandbox")
    yield made
    made.close()


def _list(web: Web, if_none_match: str) -> httpx.Response:
    return web.http.get("/api/list", headers={**web.auth(), "If-None-Match": if_none_match})


def _row(answer: list[dict[str, object]], app: str, env: str) -> dict[str, object]:
    [row] = [r for r in answer if (r["app"], r["env"]) == (app, env)]
    return row


def test_an_unchanged_board_answers_304_to_its_etag(web: Web) -> None:
    web.deployed("web", "qa", "a" * 40)
    first = web.get("/api/list")
    etag = first.headers["etag"]
    again = _list(web, etag)
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert _list(web, f'W/{etag}, "other"').status_code == 304
    assert _list(web, '"other"').status_code == 200


def test_after_a_promotion_the_old_etag_gets_the_new_board(web: Web) -> None:
    web.deployed("web", "development", "a" * 40)
    before = web.get("/api/list")
    assert _row(before.json(), "web", "qa")["artifact"] == ""
    promoted = web.post("/api/promote", {"artifact": "web:dev-aaaaaaa"})
    assert promoted.status_code == 202
    web.deployed("web", "qa", "a" * 40)  # what the worker records when the promotion is deployed
    after = _list(web, before.headers["etag"])
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert _row(after.json(), "web", "qa")["artifact"] == "web:qa-aaaaaaa"


def test_an_approval_alone_changes_the_board(web: Web) -> None:
    waiting = web.operation(app="web", env="prod", state=State.AWAITING_APPROVAL)
    before = web.get("/api/list")
    assert _row(before.json(), "web", "prod")["operation"]["approvers"] == []  # type: ignore[index]
    web.post(f"/api/operations/{waiting.id}/approve", user="release-manager")
    after = _list(web, before.headers["etag"])
    assert after.status_code == 200
    assert _row(after.json(), "web", "prod")["operation"]["approvers"] == ["release-manager"]  # type: ignore[index]


def test_the_list_of_one_app_one_environment_or_both(web: Web) -> None:
    web.deployed("web", "qa", "a" * 40)
    web.deployed("api", "qa", "b" * 40)
    assert {(r["app"], r["env"]) for r in web.get("/api/list?app=api").json()} == {
        ("api", env) for env in ("development", "qa", "prod")
    }
    assert [(r["app"], r["artifact"]) for r in web.get("/api/list?env=qa").json()] == [
        ("web", "web:qa-aaaaaaa"),
        ("api", "api:qa-bbbbbbb"),
    ]
    [row] = web.get("/api/list", params={"app": "web", "env": "qa"}).json()
    assert row["artifact"] == "web:qa-aaaaaaa"


@pytest.mark.parametrize(
    ("query", "code"), [("app=nope", "unknown_app"), ("env=nope", "unknown_environment")]
)
def test_a_list_of_an_unknown_app_or_environment_is_refused_in_one_line(web: Web, query: str, code: str) -> None:
    answer = web.get(f"/api/list?{query}")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == code
    assert "nope" in answer.json()["error"]["message"]


def test_the_kept_board_brought_up_to_date_is_the_board_read_afresh(web: Web) -> None:
    web.get("/api/list")  # kept from here on; each change below brings it up to date pair by pair
    web.deployed("web", "development", "a" * 40)
    web.get("/api/list")
    waiting = web.operation(app="api", env="prod", state=State.AWAITING_APPROVAL)
    web.deployed("api", "qa", "b" * 40, state=Health.FAILED)
    web.get("/api/list")
    web.post(f"/api/operations/{waiting.id}/approve", user="release-manager")
    web.deployed("web", "development", "c" * 40, state=Health.PROGRESSING)
    kept = web.get("/api/list").content
    assert kept == board_cache.board_json(queries.board(web.application.ctx))
    assert json.loads(kept) == [RowOut.of(row).model_dump(mode="json") for row in queries.board(web.application.ctx)]
