"""Bad input through the REST API and the CLI: one clear error, the right status, and nothing changed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from promobot import bootstrap, config
from promobot.sandbox import create
from promobot.web.app import create_app

SHA_A = "a" * 40
SHA_B = "b" * 40
DIGEST = "sha256:" + "c" * 64


class Api:
    def __init__(self, root: Path) -> None:
        made = create.sandbox(root, apps=["web", "api"], envs=["development", "qa", "prod"], port=1)
        self.loaded = config.load(str(made.config))
        self.application = bootstrap.build(self.loaded, background=False)
        self.application.ctx.store.migrate()
        self.http = TestClient(create_app(self.application, manage_lifecycle=False), raise_server_exceptions=False)
        self.tokens = {u.name: u.token.read(self.loaded.base) for u in self.loaded.settings.users}
        self.webhook = self.loaded.settings.server.webhook_token.read(self.loaded.base)
        self.root = root

    def as_user(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def post(self, path: str, body: Any, user: str = "developer") -> Any:
        return self.http.post(path, json=body, headers=self.as_user(user))

    def built(self, app: str, tag: str, source: str) -> None:
        body = {"app": app, "tag": tag, "digest": DIGEST, "revision": source, "source_revision": source}
        answer = self.http.post("/webhooks/artifacts", json=body, headers={"Authorization": f"Bearer {self.webhook}"})
        assert answer.status_code == 202, answer.text

    def operations(self) -> list[Any]:
        answer = self.http.get("/api/operations", headers=self.as_user("developer"))
        assert answer.status_code == 200
        result: list[Any] = answer.json()
        return result

    def heads(self) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(self.root / "git" / "web.git"), "for-each-ref"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    made = Api(tmp_path / "sandbox")
    yield made
    made.application.ctx.store.dispose()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "status", "code", "says"),
    [
        ({"artifact": "nope:dev-1a2b3c4"}, 404, "unknown_app", "unknown app 'nope'; use one of: web, api"),
        ({"artifact": "web:dev-1a2b3c4", "env": "nowhere"}, 404, "unknown_artifact", "no artifact web:dev-1a2b3c4"),
        ({"artifact": "web:dev-0000000"}, 404, "unknown_artifact", "see what exists with `promobot list`"),
        ({"artifact": "--output=x"}, 400, "invalid_reference", "write app:tag (web:dev-1a2b3c4)"),
        ({"artifact": "-x"}, 400, "invalid_reference", "is not an artifact reference"),
        ({"artifact": "web:dev-1a2b3c4;rm"}, 400, "invalid_reference", "is not an artifact tag"),
        ({"artifact": "web@nowhere"}, 404, "unknown_environment", "use one of: development, qa, prod"),
        ({"artifact": ""}, 422, "invalid_request", "artifact"),
    ],
)
def test_a_refused_promotion_answers_one_error_and_changes_nothing(
    api: Api, body: dict[str, str], status: int, code: str, says: str
) -> None:
    before = api.heads()
    answer = api.post("/api/promote", body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert says in f"{error['message']}; {error['hint']}"
    assert api.operations() == []
    assert api.heads() == before


def test_a_tag_two_apps_carry_is_ambiguous_and_names_both(api: Api) -> None:
    api.built("web", "qa-aaaaaaa", SHA_A)
    api.built("api", "qa-aaaaaaa", SHA_A)
    answer = api.post("/api/promote", {"artifact": "qa-aaaaaaa"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "ambiguous_reference"
    assert "api, web" in error["message"] and "write app:tag" in error["hint"]
    assert api.operations() == []


def test_an_artifact_that_never_deployed_where_it_was_built_is_not_promoted(api: Api) -> None:
    api.built("web", "qa-bbbbbbb", SHA_B)
    answer = api.post("/api/promote", {"artifact": "web:qa-bbbbbbb"})
    assert answer.status_code == 409
    assert answer.json()["error"]["message"] == "web:qa-bbbbbbb has not deployed successfully in qa"
    assert api.operations() == []


def test_promoting_past_the_last_environment_says_there_is_nothing_after_it(api: Api) -> None:
    api.built("web", "prod-bbbbbbb", SHA_B)
    answer = api.post("/api/promote", {"artifact": "web:prod-bbbbbbb"})
    assert answer.status_code == 409
    assert answer.json()["error"]["message"] == "'prod' is the last environment; there is nothing after it"


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic abc", "Bearer "])
def test_a_request_without_a_valid_token_is_refused_with_401(api: Api, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    answer = api.http.post("/api/promote", json={"artifact": "web:dev-1a2b3c4"}, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_authenticated"
    assert "wrong-token" not in answer.text
    assert api.operations() == []


def test_a_person_token_cannot_post_to_the_webhook_intake(api: Api) -> None:
    body = {"app": "web", "tag": "dev-aaaaaaa", "digest": DIGEST, "revision": SHA_A, "source_revision": SHA_A}
    answer = api.post("/webhooks/artifacts", body)
    assert answer.status_code == 401
    answer = api.post("/api/promote", {"artifact": "web:dev-aaaaaaa"})
    assert answer.json()["error"]["code"] == "unknown_artifact"


def test_approving_an_operation_that_does_not_exist_says_so(api: Api) -> None:
    answer = api.post("/api/operations/999/approve", None, user="release-manager")
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "no operation 999"


def test_rolling_back_an_app_without_an_environment_asks_for_one(api: Api) -> None:
    answer = api.post("/api/rollback", {"target": "web"})
    assert answer.status_code == 400
    assert "write `rollback web ENV`" in answer.json()["error"]["hint"]


def test_diff_between_an_environment_and_itself_is_refused(api: Api) -> None:
    answer = api.http.get("/api/diff/qa/qa", headers=api.as_user("developer"))
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "diff needs two different environments"


def test_the_cli_prints_one_line_and_exits_1_when_no_server_answers(tmp_path: Path) -> None:
    made = create.sandbox(tmp_path / "sb", apps=["web"], envs=["development", "prod"], port=9)
    done = subprocess.run(
        [sys.executable, "-m", "promobot", "promote", "web:dev-1a2b3c4", "--config", str(made.config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == "promobot: error: no promobot server answers at http://127.0.0.1:9\n"


def test_the_cli_names_the_unknown_user_and_the_known_ones(tmp_path: Path) -> None:
    made = create.sandbox(tmp_path / "sb", apps=["web"], envs=["development", "prod"], port=9)
    done = subprocess.run(
        [sys.executable, "-m", "promobot", "list", "--config", str(made.config), "--as", "mallory"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"promobot: error: no user 'mallory' in {made.config}; use --as with one of: developer, release-manager"
    ]


def test_a_delivery_whose_event_failed_is_handled_when_the_sender_retries_it(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.webhook}", "X-Promobot-Delivery": "push-1"}
    body = {"app": "nope", "ref": "refs/heads/develop", "before": SHA_A, "after": SHA_B}
    failed = api.http.post("/webhooks/git", json=body, headers=headers)
    assert failed.status_code == 404
    retried = api.http.post("/webhooks/git", json={**body, "app": "web"}, headers=headers)
    assert (retried.status_code, retried.json()) == (202, {"accepted": True, "duplicate": False})
    again = api.http.post("/webhooks/git", json={**body, "app": "web"}, headers=headers)
    assert again.json() == {"accepted": True, "duplicate": True}
