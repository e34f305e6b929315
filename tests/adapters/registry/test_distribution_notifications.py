"""A real registry's notifications reach promobot (served by uvicorn on loopback) and record artifacts.

The registry is configured with an endpoint at `/webhooks/registry` carrying the webhook token; promobot
reads the pushed image's labels back from the same registry through the Distribution adapter.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml

from promobot import bootstrap, config
from promobot.sandbox import create
from promobot.web.app import create_app
from support.registry_server import RegistryServer, push_image
from support.running import free_port, until

REV, SRC = "3" * 40, "4" * 40


class Promobot:
    """A sandbox whose registry is the real one, served by uvicorn in a thread (no background parts)."""

    def __init__(self, root: Path, registry_url: str) -> None:
        made = create.sandbox(root, apps=["web"], envs=["development", "qa", "prod"], port=1)
        settings = yaml.safe_load(made.config.read_text())
        settings["registry"] = {"kind": "distribution", "url": registry_url, "retries": 1}
        made.config.write_text(yaml.safe_dump(settings, sort_keys=False))
        loaded = config.load(str(made.config))
        self.application = bootstrap.build(loaded, background=False)
        self.application.ctx.store.migrate()
        self.token = loaded.settings.server.webhook_token.read(loaded.base)
        self.port = free_port()
        app = create_app(self.application, manage_lifecycle=False)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Promobot:
        self.thread.start()
        until(lambda: self.server.started, 10, "uvicorn to start")
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.application.ctx.store.dispose()  # type: ignore[attr-defined]

    def endpoint(self) -> dict[str, Any]:
        return {
            "name": "promobot",
            "url": f"http://127.0.0.1:{self.port}/webhooks/registry",
            "headers": {"Authorization": [f"Bearer {self.token}"]},
            "timeout": "2s",
            "threshold": 3,
            "backoff": "100ms",
        }

    def artifact(self, tag: str) -> Any:
        with self.application.ctx.store.unit_of_work() as uow:
            return uow.artifacts.get("web", tag)


@pytest.fixture
def promobot(server: RegistryServer, tmp_path: Path) -> Iterator[Promobot]:
    with Promobot(tmp_path / "sandbox", server.url) as made:
        yield made


def test_a_tag_pushed_to_the_registry_becomes_an_artifact_record(server: RegistryServer, promobot: Promobot) -> None:
    server.start(notify=promobot.endpoint())
    labels = {"org.opencontainers.image.revision": REV, "io.promobot.source-revision": SRC}

    digest = push_image(server.url, "web", "qa-4444444", labels)

    artifact = until(lambda: promobot.artifact("qa-4444444"), 15, "the registry's notification to be recorded")
    assert (artifact.digest, artifact.revision, artifact.source_revision) == (digest, REV, SRC)


def test_a_push_to_an_auto_deploy_environment_queues_its_deployment(server: RegistryServer, promobot: Promobot) -> None:
    server.start(notify=promobot.endpoint())

    digest = push_image(server.url, "web", "dev-3333333", {"org.opencontainers.image.revision": REV})

    until(lambda: promobot.artifact("dev-3333333"), 15, "the registry's notification to be recorded")
    with promobot.application.ctx.store.unit_of_work() as uow:
        (operation,) = uow.operations.blocking("web", "development")
    assert (operation.artifact, operation.source_revision) == ("web:dev-3333333", REV)
    assert promobot.artifact("dev-3333333").digest == digest


def test_pulls_and_untagged_pushes_record_nothing(server: RegistryServer, promobot: Promobot) -> None:
    server.start(notify=promobot.endpoint())
    labels = {"org.opencontainers.image.revision": REV}
    push_image(server.url, "web", "nightly", labels, body="n")  # a tag whose prefix is no environment
    digest = push_image(server.url, "web", "qa-5555555", labels, body="q")

    until(lambda: promobot.artifact("qa-5555555"), 15, "the tagged push to be recorded")
    assert promobot.artifact("nightly") is None
    assert promobot.application.ctx.registry.exists("web", digest)
