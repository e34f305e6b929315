"""The dashboard through its forms: sign-in makes a signed session, every POST needs the session's CSRF
token, and the board, operation, diff and history pages show what the API shows, acting with the user's
own roles."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from promobot.domain.operations import State
from support.webapp import Web, csrf_of


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    made = Web(tmp_path / "sandbox")
    yield made
    made.close()


def test_the_board_sends_a_visitor_without_a_session_to_sign_in(web: Web) -> None:
    answer = web.http.get("/", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/signin")


def test_signing_in_sets_a_signed_httponly_lax_cookie_that_does_not_hold_the_token(web: Web) -> None:
    page = web.http.get("/signin")
    answer = web.http.post(
        "/signin", data={"token": web.tokens["developer"], "csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert web.tokens["developer"] not in cookie
    assert "developer" in web.http.get("/").text
    key = web.root / ".promobot" / "web-session.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_a_wrong_token_is_refused_and_signs_nobody_in(web: Web) -> None:
    page = web.http.get("/signin")
    answer = web.http.post("/signin", data={"token": "nope", "csrf": csrf_of(page.text)})
    assert answer.status_code == 401
    assert "the API token is not valid" in answer.text
    assert web.http.get("/", follow_redirects=False).status_code == 303


def test_a_sign_in_without_the_csrf_token_is_refused(web: Web) -> None:
    web.http.get("/signin")
    answer = web.http.post("/signin", data={"token": web.tokens["developer"]})
    assert answer.status_code == 403
    assert web.http.get("/", follow_redirects=False).status_code == 303


def test_the_board_shows_every_app_in_every_environment_with_state_as_a_word(web: Web) -> None:
    web.deployed("web", "development", "a" * 40, by="promobot")
    web.sign_in()
    html = web.http.get("/").text
    assert html.count('class="cell state-') == 6
    assert 'data-app="web" data-env="development" data-state="healthy"' in html
    assert "dev-aaaaaaa" in html and ">healthy<" in html and "promobot" in html


def test_a_promote_typed_in_the_command_box_queues_an_operation_as_the_signed_in_user(web: Web) -> None:
    source = web.source()
    web.deployed("web", "development", source)
    csrf = web.sign_in("developer")
    answer = web.http.post("/command", data={"command": f"/promote web:dev-{source[:7]}", "csrf": csrf})
    assert answer.status_code == 200
    assert "operation 1: developer asked to promote" in answer.text
    [operation] = web.get("/api/operations").json()
    assert (operation["env"], operation["requested_by"], operation["state"]) == ("qa", "developer", "queued")


def test_a_command_box_post_without_the_csrf_token_changes_nothing(web: Web) -> None:
    source = web.source()
    web.deployed("web", "development", source)
    web.sign_in()
    answer = web.http.post("/command", data={"command": f"/promote web:dev-{source[:7]}", "csrf": "forged"})
    assert answer.status_code == 403
    assert web.get("/api/operations").json() == []


def test_a_command_the_grammar_does_not_know_shows_the_usage(web: Web) -> None:
    csrf = web.sign_in()
    answer = web.http.post("/command", data={"command": "/deploy everything", "csrf": csrf})
    assert answer.status_code == 400
    assert "is not a promobot command" in answer.text and "/promote ARTIFACT [ENV]" in answer.text


def test_a_command_box_diff_opens_the_diff_page(web: Web) -> None:
    web.deployed("web", "development", web.source())
    csrf = web.sign_in()
    answer = web.http.post("/command", data={"command": "/diff development qa web", "csrf": csrf})
    assert answer.status_code == 200
    assert str(answer.url).endswith("/diff?src=development&dst=qa&app=web")
    assert "promobot promote web:dev-" in answer.text and "GitOps pin" in answer.text


def test_approvals_wait_for_a_release_manager_and_not_for_the_requester(web: Web) -> None:
    waiting = web.operation(state=State.AWAITING_APPROVAL, by="developer")
    web.sign_in("developer")
    assert f"Approve #{waiting.id}" not in web.http.get("/").text
    csrf = web.sign_in("release-manager")
    assert f"Approve #{waiting.id}" in web.http.get("/").text
    answer = web.http.post(f"/operations/{waiting.id}/approve", data={"csrf": csrf})
    assert answer.status_code == 200
    assert "release-manager" in answer.text and "<dd>approved</dd>" in answer.text
    assert web.get(f"/api/operations/{waiting.id}").json()["state"] == "running"


def test_a_requester_approving_their_own_operation_sees_why_not(web: Web) -> None:
    waiting = web.operation(state=State.AWAITING_APPROVAL, by="developer")
    csrf = web.sign_in("developer")
    answer = web.http.post(f"/operations/{waiting.id}/approve", data={"csrf": csrf})
    assert answer.status_code == 403
    assert "awaiting approval" in answer.text


def test_the_operation_page_lists_its_steps_with_times_and_the_pull_request(web: Web) -> None:
    waiting = web.operation(state=State.AWAITING_APPROVAL)
    web.sign_in()
    html = web.http.get(f"/operations/{waiting.id}").text
    assert "pr open" in html and "web.git#pull/1" in html and "<time datetime=" in html


def test_rollback_asks_for_confirmation_first_then_queues(web: Web) -> None:
    web.deployed("web", "qa", "a" * 40)
    web.deployed("web", "qa", "b" * 40)
    csrf = web.sign_in()
    history = web.http.get("/history/web/qa").text
    assert "qa-bbbbbbb" in history and 'href="/rollback/web/qa"' in history
    confirm = web.http.get("/rollback/web/qa")
    assert "Yes, roll back" in confirm.text
    assert web.get("/api/operations").json() == []
    answer = web.http.post("/rollback/web/qa", data={"csrf": csrf})
    assert answer.status_code == 200 and str(answer.url).endswith("/operations/1")
    assert web.get("/api/operations/1").json()["artifact"] == "web:qa-aaaaaaa"


def test_signing_out_ends_the_session(web: Web) -> None:
    csrf = web.sign_in()
    web.http.post("/signout", data={"csrf": csrf})
    assert web.http.get("/", follow_redirects=False).status_code == 303
    assert web.http.get("/api/events").status_code == 401


def test_a_tampered_session_cookie_is_a_stranger(web: Web) -> None:
    web.sign_in()
    value = web.http.cookies["promobot_session"]
    body, mac = value.split(".")
    web.http.cookies.set("promobot_session", body[:-2] + "xx." + mac)
    assert web.http.get("/", follow_redirects=False).status_code == 303


def test_pages_carry_a_strict_content_security_policy(web: Web) -> None:
    answer = web.http.get("/signin")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"


def test_a_missing_page_is_a_page_for_a_browser_and_json_for_the_api(web: Web) -> None:
    page = web.http.get("/nowhere", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "<h1>no route GET /nowhere</h1>" in page.text
    api = web.http.get("/api/nowhere", headers={"Accept": "text/html"})
    assert api.json()["error"]["code"] == "not_found"


def test_the_static_script_and_styles_are_served(web: Web) -> None:
    assert "EventSource" in web.http.get("/static/board.js").text
    assert web.http.get("/static/promobot.css").status_code == 200
