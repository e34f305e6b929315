"""`/api/locks` and `/api/audit`: lock and unlock an environment, list the locks, page through the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.webapp import Web


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    made = Web(tmp_path / "sandbox")
    yield made
    made.close()


def test_a_lock_is_placed_listed_and_lifted_through_the_api(web: Web) -> None:
    placed = web.post("/api/locks/qa", {"reason": "release 4.2"}, user="release-manager")
    listed = web.get("/api/locks")
    lifted = web.http.delete("/api/locks/qa", headers=web.auth("release-manager"))

    assert placed.status_code == 201, placed.text
    assert {k: placed.json()[k] for k in ("env", "by", "reason")} == {
        "env": "qa",
        "by": "release-manager",
        "reason": "release 4.2",
    }
    assert [lock["env"] for lock in listed.json()] == ["qa"]
    assert lifted.status_code == 200 and lifted.json()["by"] == "release-manager"
    assert web.get("/api/locks").json() == []


def test_locking_a_locked_environment_or_an_unknown_one_is_refused(web: Web) -> None:
    web.post("/api/locks/qa", None)

    again = web.post("/api/locks/qa", None)
    unknown = web.post("/api/locks/nowhere", None)
    not_locked = web.http.delete("/api/locks/prod", headers=web.auth())

    assert (again.status_code, again.json()["error"]["code"]) == (409, "nothing_to_do")
    assert again.json()["error"]["message"].startswith("qa is locked by developer since ")
    assert unknown.status_code == 404
    assert not_locked.status_code == 409


def test_the_audit_log_pages_newest_first_and_filters_by_actor(web: Web) -> None:
    for env in ("development", "qa", "prod"):
        web.post(f"/api/locks/{env}", None, user="release-manager")
    web.post("/api/locks/qa", None)  # refused: locked already

    first = web.get("/api/audit", params={"limit": 2})
    second = web.get("/api/audit", params={"limit": 2, "offset": 2})
    developer = web.get("/api/audit", params={"actor": "developer"})

    assert [e["subject"] for e in first.json()] == ["lock qa", "lock prod"]
    assert first.headers["Link"] == '</api/audit?limit=2&offset=2>; rel="next"'
    assert [e["subject"] for e in second.json()] == ["lock qa", "lock development"]
    assert "Link" not in second.headers
    assert [(e["actor"], e["outcome"]) for e in developer.json()] == [("developer", "refused")]
    assert developer.json()[0]["detail"].startswith("qa is locked by release-manager")


def test_the_lock_and_audit_endpoints_refuse_a_caller_without_a_token(web: Web) -> None:
    for method, path in (
        ("GET", "/api/locks"),
        ("POST", "/api/locks/qa"),
        ("DELETE", "/api/locks/qa"),
        ("GET", "/api/audit"),
    ):
        assert web.http.request(method, path).status_code == 401
    assert web.get("/api/locks").json() == []
