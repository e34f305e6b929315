"""The REST API under hostile input: any promote or rollback a client sends is a 4xx or taken, never a 5xx,
and a refused one touches no ref; every endpoint refuses a request without a valid bearer token."""

from __future__ import annotations

import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support import tally
from support.hostile_data import FUZZ, TYPED
from support.webapp import Web

SUITE = "hostile input"
REFUSED = (400, 401, 403, 404, 409, 422)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    made = Web(tmp_path_factory.mktemp("api") / "sandbox")
    yield made
    made.close()


def _refs(site: Web) -> dict[str, list[str]]:
    return {
        bare.name: sorted(str(p.relative_to(bare)) for p in (bare / "refs").rglob("*") if p.is_file())
        for bare in sorted((site.root / "git").glob("*.git"))
    }


@given(route=st.sampled_from(["promote", "rollback"]), first=TYPED, env=st.none() | TYPED)
@FUZZ
def test_any_promote_or_rollback_request_is_refused_with_one_clear_4xx_and_touches_no_ref(
    site: Web, route: str, first: str, env: str | None
) -> None:
    before = _refs(site)
    answer = site.post(f"/api/{route}", {"artifact" if route == "promote" else "target": first, "env": env})
    tally.add(SUITE, "fuzz cases")
    assert answer.status_code in REFUSED, answer.text
    tally.add(SUITE, "refused requests")
    message = answer.json()["error"]["message"]
    assert message.strip() and "\n" not in message
    assert _refs(site) == before


ENDPOINTS = [
    ("POST", "/api/promote", {"artifact": "web:dev-1a2b3c4"}),
    ("POST", "/api/rollback", {"target": "web", "env": "qa"}),
    ("POST", "/api/operations/1/approve", None),
    ("POST", "/api/operations/1/cancel", None),
    ("GET", "/api/operations/1", None),
    ("GET", "/api/operations", None),
    ("GET", "/api/list", None),
    ("GET", "/api/history/web/qa", None),
    ("GET", "/api/diff/development/qa", None),
    ("GET", "/api/audit", None),
    ("GET", "/api/locks", None),
]
BAD_AUTH = {
    "missing": {},
    "empty bearer": {"Authorization": "Bearer "},
    "wrong token": {"Authorization": "Bearer " + "x" * 43},
    "basic": {"Authorization": "Basic ZGV2ZWxvcGVyOng="},
    "token of a lookalike": {"Authorization": "Bearer " + string.ascii_letters[:43]},
}


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
@pytest.mark.parametrize("auth", [*sorted(BAD_AUTH), "the webhook token"])
def test_every_api_endpoint_refuses_a_request_without_a_persons_token_and_does_nothing(
    site: Web, method: str, path: str, body: Any, auth: str
) -> None:
    webhook_token = site.loaded.settings.server.webhook_token.read(site.loaded.base)  # the intake's, no person's
    headers = {"Authorization": f"Bearer {webhook_token}"} if auth == "the webhook token" else BAD_AUTH[auth]
    before = _refs(site)
    answer = site.http.request(method, path, json=body, headers=headers)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "not_authenticated"
    assert _refs(site) == before
    tally.add(SUITE, "refused requests")
