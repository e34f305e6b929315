"""Hostile input: whatever people or senders type, promobot answers 4xx or a clear error, never crashes,
and no user text reaches git as an option or an unchecked ref."""

from __future__ import annotations

import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promobot import bootstrap, config
from promobot.domain import errors
from promobot.domain.artifacts import NAME, SHA_PREFIX, TAG, parse_ref
from promobot.sandbox import create
from promobot.web.app import create_app
from support import tally

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    ["--output=x", "-x", "web:--force", "web@-qa", "web:dev-1a2b3c4 --upload-pack=x", "..", "web:../x", "@", ":"]
)
SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(TEXT, st.booleans())
@settings(max_examples=2000, deadline=None)
def test_any_reference_is_either_refused_clearly_or_made_of_allowed_names_only(text: str, bare: bool) -> None:
    tally.add("hostile input", "fuzzed references")
    try:
        ref = parse_ref(text, allow_bare_app=bare)
    except errors.InvalidReference as exc:
        assert str(exc) and "\n" not in str(exc).replace("\\n", "")
        return
    for part in (ref.app, ref.env):
        assert part is None or NAME.match(part)
    assert ref.tag is None or (TAG.match(ref.tag) and not ref.tag.startswith("-"))
    assert ref.sha is None or SHA_PREFIX.match(ref.sha)


class Api:
    def __init__(self, root: Path) -> None:
        made = create.sandbox(root, apps=["web"], envs=["development", "qa", "prod"], port=1)
        loaded = config.load(str(made.config))
        self.application = bootstrap.build(loaded, background=False)
        self.application.ctx.store.migrate()
        self.http = TestClient(create_app(self.application, manage_lifecycle=False), raise_server_exceptions=False)
        developer = loaded.settings.users[0].token.read(loaded.base)
        self.person = {"Authorization": f"Bearer {developer}"}
        self.hook = {"Authorization": f"Bearer {loaded.settings.server.webhook_token.read(loaded.base)}"}
        self.refs = root / "git" / "web.git" / "refs"

    def refs_now(self) -> list[str]:
        return sorted(str(p.relative_to(self.refs)) for p in self.refs.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield Api(tmp_path_factory.mktemp("hostile") / "sandbox")


def _refused_without_crash(status: int) -> bool:
    tally.add("hostile input", "fuzzed requests")
    refused = status in (400, 401, 403, 404, 409, 422)
    if refused:
        tally.add("hostile input", "refused requests")
    return refused


@given(artifact=TEXT, env=st.none() | TEXT)
@SLOW
def test_any_promote_request_is_refused_with_a_4xx_and_touches_no_ref(api: Api, artifact: str, env: str | None) -> None:
    before = api.refs_now()
    answer = api.http.post("/api/promote", json={"artifact": artifact, "env": env}, headers=api.person)
    assert _refused_without_crash(answer.status_code), answer.text
    assert set(answer.json()) == {"error"}
    assert api.refs_now() == before


@given(target=TEXT, env=st.none() | TEXT)
@SLOW
def test_any_rollback_request_is_refused_with_a_4xx(api: Api, target: str, env: str | None) -> None:
    answer = api.http.post("/api/rollback", json={"target": target, "env": env}, headers=api.person)
    assert _refused_without_crash(answer.status_code), answer.text


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
FIELDS = {
    "/webhooks/git": ["app", "ref", "before", "after", "pusher"],
    "/webhooks/artifacts": ["app", "tag", "digest", "revision", "source_revision"],
    "/webhooks/engine": ["env", "app", "digest", "state", "url", "message"],
}
NEAR_MISS = st.sampled_from(["web", "nope", "refs/heads/develop", "0" * 40, "sha256:" + "a" * 64, "healthy", ""]) | TEXT


@pytest.mark.parametrize("path", sorted(FIELDS))
@given(data=st.data())
@SLOW
def test_any_webhook_body_gets_an_answer_never_a_server_error(api: Api, path: str, data: st.DataObject) -> None:
    body: Any = data.draw(
        JSON | st.fixed_dictionaries({field: NEAR_MISS for field in FIELDS[path]}),
        label="body",
    )
    answer = api.http.post(path, json=body, headers=api.hook)
    assert answer.status_code in (202, 400, 404, 409, 422), answer.text
    _count(answer.status_code)


@pytest.mark.parametrize("path", sorted(FIELDS))
@given(raw=st.binary(max_size=200))
@SLOW
def test_any_bytes_posted_to_a_webhook_get_a_4xx(api: Api, path: str, raw: bytes) -> None:
    answer = api.http.post(path, content=raw, headers={**api.hook, "Content-Type": "application/json"})
    assert answer.status_code in (202, 400, 404, 409, 422), answer.text
    _count(answer.status_code)


def _count(status: int) -> None:
    tally.add("hostile input", "fuzzed webhook bodies")
    if status != 202:
        tally.add("hostile input", "refused requests")


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
    ("POST", "/webhooks/git", {"app": "web", "ref": "refs/heads/develop", "before": "0" * 40, "after": "1" * 40}),
    (
        "POST",
        "/webhooks/artifacts",
        {
            "app": "web",
            "tag": "dev-1111111",
            "digest": "sha256:" + "a" * 64,
            "revision": "1" * 40,
            "source_revision": "1" * 40,
        },
    ),
    ("POST", "/webhooks/engine", {"env": "qa", "app": "web", "digest": "sha256:" + "a" * 64, "state": "healthy"}),
]
BAD_AUTH = {
    "missing": {},
    "empty bearer": {"Authorization": "Bearer "},
    "wrong token": {"Authorization": "Bearer " + "x" * 43},
    "basic": {"Authorization": "Basic ZGV2ZWxvcGVyOng="},
    "token of a lookalike": {"Authorization": "Bearer " + string.ascii_letters[:43]},
}


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
@pytest.mark.parametrize("auth", sorted(BAD_AUTH))
def test_every_endpoint_refuses_a_request_without_its_token_and_does_nothing(
    api: Api, method: str, path: str, body: Any, auth: str
) -> None:
    before = api.refs_now()
    answer = api.http.request(method, path, json=body, headers=BAD_AUTH[auth])
    assert answer.status_code == 401, answer.text
    tally.add("hostile input", "unauthenticated requests refused")
    assert answer.json()["error"]["code"] == "not_authenticated"
    assert api.refs_now() == before


@pytest.mark.parametrize("path", sorted(FIELDS))
def test_a_person_token_is_refused_by_the_intake(api: Api, path: str) -> None:
    answer = api.http.post(path, json={}, headers=api.person)
    assert answer.status_code == 401


@pytest.mark.parametrize("name", ["../x", "..", "a/b", "/etc", "-x", "X", "a b"])
def test_sandbox_names_cannot_leave_the_sandbox(tmp_path: Path, name: str) -> None:
    with pytest.raises(errors.PromobotError):
        create.sandbox(tmp_path / "sb", apps=[name], envs=["development", "qa"], port=1)
    with pytest.raises(errors.PromobotError):
        create.sandbox(tmp_path / "sb2", apps=["web"], envs=["development", name], port=1)
    assert not (tmp_path / "x").exists()
