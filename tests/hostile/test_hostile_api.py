"""The REST API under hostile input: any promote or rollback a client sends is a 4xx or taken, never a 5xx,
and a refused one touches no ref; every endpoint refuses a request without a valid bearer token (every route of
the app that takes one: tests/support/api_routes.py)."""

from __future__ import annotations

import string
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support import api_routes, tally
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


BAD_AUTH = {
    "missing": {},
    "empty bearer": {"Authorization": "Bearer "},
    "wrong token": {"Authorization": "Bearer " + "x" * 43},
    "basic": {"Authorization": "Basic ZGV2ZWxvcGVyOng="},
    "token of a lookalike": {"Authorization": "Bearer " + string.ascii_letters[:43]},
}


@pytest.mark.parametrize(("method", "path"), api_routes.BEARER, ids=[f"{m} {p}" for m, p in api_routes.BEARER])
@pytest.mark.parametrize("auth", [*sorted(BAD_AUTH), "the webhook token"])
def test_every_api_endpoint_refuses_a_request_without_a_persons_token_and_does_nothing(
    site: Web, method: str, path: str, auth: str
) -> None:
    request = api_routes.reach(method, path)
    webhook_token = site.loaded.settings.server.webhook_token.read(site.loaded.base)  # the intake's, no person's
    headers = {"Authorization": f"Bearer {webhook_token}"} if auth == "the webhook token" else BAD_AUTH[auth]
    before = _refs(site)
    answer = site.http.request(method, request.path, json=request.body, headers=headers)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "not_authenticated"
    assert _refs(site) == before
    tally.add(SUITE, "refused requests")
