"""Every REST endpoint: what it answers a user with a token, and that it refuses one without."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from promobot.domain.deployments import Health
from promobot.domain.operations import State
from support import api_routes
from support.webapp import Web


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    made = Web(tmp_path / "sandbox")
    yield made
    made.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """Operation 1 waiting for approval and `prod` locked: what a refused request must leave as it is."""
    made = Web(tmp_path_factory.mktemp("refusals") / "sandbox")
    made.operation(state=State.AWAITING_APPROVAL)
    assert made.post("/api/locks/prod", {"reason": "release freeze"}).status_code == 201
    yield made
    made.close()


def _state(web: Web) -> dict[str, object]:
    return {path: web.get(path).json() for path in ("/api/operations/1", "/api/locks", "/api/audit")}


@pytest.mark.parametrize(("method", "path"), api_routes.BEARER, ids=[f"{m} {p}" for m, p in api_routes.BEARER])
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Token abc"])
def test_every_endpoint_refuses_a_caller_without_a_valid_token(
    seeded: Web, method: str, path: str, authorization: str | None
) -> None:
    request = api_routes.reach(method, path)
    headers = {"Authorization": authorization} if authorization else {}
    before = _state(seeded)
    answer = seeded.http.request(method, request.path, json=request.body, headers=headers)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "not_authenticated"
    assert _state(seeded) == before


def test_every_request_and_exclusion_in_the_route_tables_names_a_route_the_app_still_serves() -> None:
    assert not api_routes.stale(), f"in tests/support/api_routes.py but no longer a route: {api_routes.stale()}"


def test_the_webhook_token_is_not_an_api_token(web: Web) -> None:
    token = web.loaded.settings.server.webhook_token.read(web.loaded.base)
    answer = web.http.get("/api/list", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401


def test_promote_queues_an_operation_for_a_healthy_artifact(web: Web) -> None:
    source = web.source()
    web.deployed("web", "development", source)
    answer = web.post("/api/promote", {"artifact": f"web:dev-{source[:7]}"})
    assert answer.status_code == 202, answer.text
    operation = answer.json()
    assert (operation["kind"], operation["env"], operation["state"]) == ("promote", "qa", "queued")
    assert operation["requested_by"] == "developer"


def test_rollback_queues_the_previous_healthy_artifact(web: Web) -> None:
    web.deployed("web", "qa", "a" * 40)
    web.deployed("web", "qa", "b" * 40)
    answer = web.post("/api/rollback", {"target": "web", "env": "qa"})
    assert answer.status_code == 202, answer.text
    operation = answer.json()
    assert (operation["kind"], operation["artifact"], operation["state"]) == ("rollback", "web:qa-aaaaaaa", "queued")


def test_rollback_with_nothing_earlier_says_there_is_nothing_to_roll_back_to(web: Web) -> None:
    web.deployed("web", "qa", "a" * 40)
    answer = web.post("/api/rollback", {"target": "web", "env": "qa"})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "nothing_to_do"


def test_approve_by_a_release_manager_moves_a_waiting_promotion_on(web: Web) -> None:
    waiting = web.operation(state=State.AWAITING_APPROVAL, by="developer")
    answer = web.post(f"/api/operations/{waiting.id}/approve", user="release-manager")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["state"], answer.json()["step"]) == ("running", "approved")
    assert answer.json()["approvers"] == ["release-manager"]


def test_a_developer_cannot_approve_their_own_promotion(web: Web) -> None:
    waiting = web.operation(state=State.AWAITING_APPROVAL, by="developer")
    answer = web.post(f"/api/operations/{waiting.id}/approve", user="developer")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "not_allowed"


def test_cancel_ends_a_waiting_operation_and_a_second_cancel_is_refused(web: Web) -> None:
    waiting = web.operation(state=State.AWAITING_APPROVAL, by="developer")
    answer = web.post(f"/api/operations/{waiting.id}/cancel")
    assert (answer.status_code, answer.json()["state"]) == (200, "cancelled")
    again = web.post(f"/api/operations/{waiting.id}/cancel")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "gate_not_met")


def test_an_operation_answers_with_its_events_oldest_first(web: Web) -> None:
    waiting = web.operation(state=State.AWAITING_APPROVAL)
    web.post(f"/api/operations/{waiting.id}/approve", user="release-manager")
    answer = web.get(f"/api/operations/{waiting.id}")
    assert answer.status_code == 200
    assert [e["step"] for e in answer.json()["events"]] == ["pr_open", "approved"]


def test_the_list_shows_every_app_in_every_environment_with_what_is_moving(web: Web) -> None:
    web.deployed("web", "development", "a" * 40, by="promobot")
    waiting = web.operation(app="web", env="prod")
    rows = {(r["app"], r["env"]): r for r in web.get("/api/list").json()}
    assert len(rows) == 6
    assert rows["web", "development"]["artifact"] == "web:dev-aaaaaaa"
    assert rows["web", "development"]["state"] == "healthy"
    assert rows["web", "prod"]["operation"]["id"] == waiting.id
    assert rows["api", "qa"]["state"] == "none"


def test_diff_names_the_commits_files_and_the_command_that_brings_dst_up(web: Web) -> None:
    web.deployed("web", "development", web.source())
    answer = web.get("/api/diff/development/qa?app=web")
    assert answer.status_code == 200, answer.text
    [diff] = answer.json()
    assert diff["src_artifact"].startswith("web:dev-")
    assert diff["instruction"].startswith(f"promobot promote {diff['src_artifact']} qa")


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/nothing-here", 404, "not_found"),
        ("GET", "/no/such/page", 404, "not_found"),
        ("DELETE", "/api/list", 405, "method_not_allowed"),
        ("GET", "/api/promote", 405, "method_not_allowed"),
        ("GET", "/api/operations/abc", 422, "invalid_request"),
        ("GET", "/api/operations/999", 404, "unknown_operation"),
        ("GET", "/api/diff/qa/nowhere", 404, "unknown_environment"),
    ],
)
def test_every_failure_is_the_one_json_error_shape(web: Web, method: str, path: str, status: int, code: str) -> None:
    answer = web.http.request(method, path, headers=web.auth())
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert set(answer.json()) == {"error"}
    assert set(answer.json()["error"]) == {"code", "message", "hint"}
    assert answer.json()["error"]["code"] == code


def test_a_405_says_which_methods_are_allowed(web: Web) -> None:
    answer = web.http.delete("/api/list", headers=web.auth())
    assert answer.headers["allow"] == "GET"
    assert answer.json()["error"]["hint"] == "use GET"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("not json", "body"),
        ({"artifact": "x" * 201}, "body.artifact"),
        ({"artifact": "web:dev-aaaaaaa", "env": "e" * 65}, "body.env"),
        ([1, 2], "body"),
    ],
)
def test_a_body_that_does_not_validate_is_a_422_naming_the_field(web: Web, body: object, says: str) -> None:
    if isinstance(body, str):
        answer = web.http.post("/api/promote", content=body, headers={**web.auth(), "Content-Type": "application/json"})
    else:
        answer = web.post("/api/promote", body)
    assert answer.status_code == 422
    assert answer.json()["error"]["message"].startswith(says)


def test_history_answers_deployments_with_their_state(web: Web) -> None:
    web.deployed("web", "qa", "a" * 40, Health.FAILED)
    [deployment] = web.get("/api/history/web/qa").json()
    assert (deployment["artifact"], deployment["state"]) == ("web:qa-aaaaaaa", "failed")


def test_a_405_on_a_path_served_by_several_routes_names_every_method(web: Web) -> None:
    answer = web.http.put("/api/locks/qa", headers=web.auth())
    assert answer.status_code == 405
    assert answer.headers["allow"] == "DELETE, POST"
    assert answer.json()["error"]["hint"] == "use DELETE, POST"
