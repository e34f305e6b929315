"""Operations and history come a page at a time, newest first, with a `Link` to the next page; operations
filter by state, app and environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from promobot.domain.deployments import Health
from promobot.domain.operations import State
from support.webapp import Web


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    made = Web(tmp_path / "sandbox")
    yield made
    made.close()


def _next(answer: object) -> str | None:
    link = answer.headers.get("link")  # type: ignore[attr-defined]
    if link is None:
        return None
    assert link.endswith('>; rel="next"')
    return str(link[1 : link.index(">")])


def test_operations_page_through_every_one_newest_first_following_the_link(web: Web) -> None:
    made = [web.operation(app="web", env=env, state=State.SUCCEEDED).id for env in ("development", "qa", "prod")]
    made += [web.operation(app="api", env=env, state=State.SUCCEEDED).id for env in ("development", "qa")]
    seen: list[int] = []
    url: str | None = "/api/operations?limit=2"
    pages = 0
    while url:
        answer = web.get(url)
        assert answer.status_code == 200, answer.text
        seen += [op["id"] for op in answer.json()]
        url, pages = _next(answer), pages + 1
    assert seen == sorted(made, reverse=True)
    assert pages == 3


def test_the_last_page_has_no_next_link(web: Web) -> None:
    web.operation(state=State.SUCCEEDED)
    answer = web.get("/api/operations?limit=1")
    assert len(answer.json()) == 1
    assert "link" not in answer.headers


def test_operations_filter_by_state_app_and_environment_and_keep_the_filter_in_the_next_link(web: Web) -> None:
    waiting = web.operation(app="web", env="prod", state=State.AWAITING_APPROVAL)
    web.operation(app="web", env="qa", state=State.SUCCEEDED)
    web.operation(app="api", env="prod", state=State.FAILED)
    web.operation(app="api", env="qa", state=State.FAILED)
    assert [op["id"] for op in web.get("/api/operations?state=awaiting_approval").json()] == [waiting.id]
    assert {op["app"] for op in web.get("/api/operations?app=api").json()} == {"api"}
    assert {(op["app"], op["env"]) for op in web.get("/api/operations?env=prod").json()} == {
        ("web", "prod"),
        ("api", "prod"),
    }
    first = web.get("/api/operations?state=failed&limit=1")
    link = _next(first)
    assert link is not None and "state=failed" in link and "offset=1" in link
    assert [op["state"] for op in web.get(link).json()] == ["failed"]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("state=finished", 422, "invalid_request"),
        ("limit=0", 422, "invalid_request"),
        ("limit=201", 422, "invalid_request"),
        ("offset=-1", 422, "invalid_request"),
        ("app=nope", 404, "unknown_app"),
        ("env=nowhere", 404, "unknown_environment"),
    ],
)
def test_a_bad_operations_query_is_one_clear_error(web: Web, query: str, status: int, code: str) -> None:
    answer = web.get(f"/api/operations?{query}")
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code


def test_history_pages_through_deployments_newest_first(web: Web) -> None:
    ids = [web.deployed("web", "qa", c * 40, Health.HEALTHY).id for c in "abcde"]
    first = web.get("/api/history/web/qa?limit=3")
    assert [d["id"] for d in first.json()] == ids[::-1][:3]
    link = _next(first)
    assert link == "/api/history/web/qa?limit=3&offset=3"
    second = web.get(link)
    assert [d["id"] for d in second.json()] == ids[::-1][3:]
    assert _next(second) is None


def test_history_of_an_unknown_environment_is_a_404(web: Web) -> None:
    answer = web.get("/api/history/web/nowhere")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "unknown_environment"
