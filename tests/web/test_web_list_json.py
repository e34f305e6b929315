"""`GET /api/list` is dumped in one pass: the same JSON a model per row gave, and the schema says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from promobot.service import queries
from promobot.web.schemas import RowOut
from support.webapp import Web


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    made = Web(tmp_path / "sandbox")
    yield made
    made.close()


def test_the_list_json_is_what_a_model_per_row_would_give(web: Web) -> None:
    web.deployed("web", "development", "a" * 40, by="promobot")
    web.deployed("web", "qa", "b" * 40)
    web.operation(app="web", env="prod")
    answer = web.get("/api/list")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    expected = [RowOut.of(row).model_dump(mode="json") for row in queries.board(web.application.ctx)]
    assert answer.json() == expected
    assert [list(row) for row in answer.json()] == [list(RowOut.model_fields)] * len(expected)


def test_the_openapi_schema_still_describes_the_list_rows(web: Web) -> None:
    schema = web.http.get("/openapi.json").json()
    ok = schema["paths"]["/api/list"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["type"] == "array" and ok["items"]["$ref"].endswith("/RowOut")
