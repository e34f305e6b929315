"""`POST /webhooks/registry`: registry notifications become artifact records, once, and bad ones are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from promobot import bootstrap, config
from promobot.domain import errors
from promobot.sandbox import create
from promobot.web.app import create_app
from support.fakes import FakeRegistry

V1 = "application/vnd.docker.distribution.events.v1+json"
OCI = "application/vnd.oci.image.manifest.v1+json"
REV, SRC = "1" * 40, "2" * 40
DIGEST = "sha256:" + "d" * 64


def push_event(event_id: str, tag: str, *, repository: str = "web", digest: str = DIGEST, action: str = "push") -> Any:
    target = {"mediaType": OCI, "digest": digest, "size": 500, "length": 500, "repository": repository, "tag": tag}
    return {"id": event_id, "timestamp": "2024-05-01T12:00:00Z", "action": action, "target": target}


class Hook:
    def __init__(self, root: Path) -> None:
        made = create.sandbox(root, apps=["web", "api"], envs=["development", "qa", "prod"], port=1)
        loaded = config.load(str(made.config))
        self.application = bootstrap.build(loaded, background=False)
        self.application.ctx.store.migrate()
        self.registry = FakeRegistry()
        self.application.ctx.registry = self.registry
        self.http = TestClient(create_app(self.application, manage_lifecycle=False), raise_server_exceptions=False)
        self.token = loaded.settings.server.webhook_token.read(loaded.base)

    def send(self, events: list[Any], *, token: str | None = None, media_type: str = V1) -> Any:
        headers = {"Authorization": f"Bearer {token or self.token}", "Content-Type": media_type}
        return self.http.post("/webhooks/registry", content=json.dumps({"events": events}), headers=headers)

    def artifact(self, app: str, tag: str) -> Any:
        with self.application.ctx.store.unit_of_work() as uow:
            return uow.artifacts.get(app, tag)


@pytest.fixture
def hook(tmp_path: Path) -> Iterator[Hook]:
    made = Hook(tmp_path / "sandbox")
    yield made
    made.application.ctx.store.dispose()  # type: ignore[attr-defined]


def test_a_pushed_tag_is_recorded_with_the_revisions_from_its_labels(hook: Hook) -> None:
    labels = {"org.opencontainers.image.revision": REV, "io.promobot.source-revision": SRC}
    hook.registry.put("web", "qa-2222222", DIGEST, labels)

    answer = hook.send([push_event("ev-1", "qa-2222222")])

    assert answer.status_code == 202, answer.text
    assert answer.json() == {"recorded": ["web:qa-2222222"], "duplicates": 0, "ignored": 0}
    artifact = hook.artifact("web", "qa-2222222")
    assert (artifact.digest, artifact.revision, artifact.source_revision) == (DIGEST, REV, SRC)


def test_without_a_source_label_the_revision_is_the_source(hook: Hook) -> None:
    hook.registry.put("web", "dev-1111111", DIGEST, {"org.opencontainers.image.revision": REV})

    assert hook.send([push_event("ev-1", "dev-1111111")]).status_code == 202

    assert hook.artifact("web", "dev-1111111").source_revision == REV


def test_a_redelivered_event_is_taken_once(hook: Hook) -> None:
    hook.registry.put("web", "qa-2222222", DIGEST, {"org.opencontainers.image.revision": REV})
    hook.send([push_event("ev-1", "qa-2222222")])

    again = hook.send([push_event("ev-1", "qa-2222222")])

    assert again.json() == {"recorded": [], "duplicates": 1, "ignored": 0}


def test_pulls_deletes_blobs_other_images_unknown_prefixes_and_unlabelled_images_are_ignored(hook: Hook) -> None:
    hook.registry.put("web", "qa-3333333", DIGEST, {})  # no revision label
    hook.registry.put("web", "dev-4444444", "sha256:" + "e" * 64, {"org.opencontainers.image.revision": REV})
    blob = {"id": "ev-b", "action": "push", "target": {"mediaType": "application/octet-stream", "digest": DIGEST}}
    events = [
        push_event("ev-1", "qa-2222222", action="pull"),
        push_event("ev-2", "qa-2222222", action="delete"),
        blob,
        {**push_event("ev-3", ""), "target": {**push_event("ev-3", "")["target"], "tag": ""}},
        push_event("ev-4", "qa-2222222", repository="someone-else"),
        push_event("ev-5", "nightly-2222222"),
        push_event("ev-6", "qa-3333333"),
        push_event("ev-7", "dev-4444444"),  # the tag has moved on to another digest since
    ]

    answer = hook.send(events)

    assert answer.status_code == 202
    assert answer.json() == {"recorded": [], "duplicates": 0, "ignored": 4}
    assert hook.artifact("web", "qa-3333333") is None and hook.artifact("web", "dev-4444444") is None


@pytest.mark.parametrize(
    ("body", "media_type", "status"),
    [
        (b"{not json", V1, 400),
        (b'{"events": {}}', V1, 400),
        (b"[]", V1, 400),
        (b'{"events": ["x"]}', V1, 400),
        (json.dumps({"events": [push_event("ev-1", "qa-2222222", digest="md5:1")]}).encode(), V1, 400),
        (json.dumps({"events": [push_event("ev-1", "qa-2222222", repository="../x")]}).encode(), V1, 400),
        (json.dumps({"events": [{**push_event("", "qa-2222222")}]}).encode(), V1, 400),
        (b'{"events": []}', "text/plain", 415),
        (b"\xff\xfe", V1, 400),
    ],
)
def test_bodies_that_are_not_envelopes_are_refused_with_a_4xx(
    hook: Hook, body: bytes, media_type: str, status: int
) -> None:
    headers = {"Authorization": f"Bearer {hook.token}", "Content-Type": media_type}

    answer = hook.http.post("/webhooks/registry", content=body, headers=headers)

    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["message"]


def test_the_v2_envelope_media_type_is_accepted(hook: Hook) -> None:
    answer = hook.send([], media_type="application/vnd.docker.distribution.events.v2+json")

    assert answer.status_code == 202 and answer.json()["recorded"] == []


def test_a_notification_without_the_webhook_token_is_refused(hook: Hook) -> None:
    hook.registry.put("web", "qa-2222222", DIGEST, {"org.opencontainers.image.revision": REV})

    answer = hook.send([push_event("ev-1", "qa-2222222")], token="not-the-token")

    assert answer.status_code == 401
    assert hook.http.post("/webhooks/registry", content=b'{"events": []}').status_code == 401
    assert hook.artifact("web", "qa-2222222") is None


def test_a_registry_that_cannot_be_read_asks_for_a_redelivery(hook: Hook) -> None:
    class Down(FakeRegistry):
        def get(self, image: str, tag: str) -> None:
            raise errors.TemporaryError("the registry did not answer")

    hook.application.ctx.registry = Down()

    answer = hook.send([push_event("ev-1", "qa-2222222")])

    assert answer.status_code == 503
    hook.application.ctx.registry = hook.registry
    hook.registry.put("web", "qa-2222222", DIGEST, {"org.opencontainers.image.revision": REV})
    assert hook.send([push_event("ev-1", "qa-2222222")]).json()["recorded"] == ["web:qa-2222222"]
