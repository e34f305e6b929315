"""Builders for the domain objects the store tests save, with sensible defaults."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic.script import ScriptDirectory

from promobot.adapters.store import migrating
from promobot.domain.artifacts import Artifact
from promobot.domain.deployments import Deployment, Health
from promobot.domain.operations import Kind, Operation

SHA_A = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
SHA_B = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
HEAD = ScriptDirectory.from_config(migrating.config()).get_current_head()  # the newest migration


class ManualClock:
    """A clock that moves only when told, one second per reading unless frozen."""

    def __init__(self) -> None:
        self.at = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
        self.step = timedelta(seconds=1)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            self.at += self.step
            return self.at


def operation(app: str = "web", env: str = "qa", **fields: Any) -> Operation:
    values: dict[str, Any] = {
        "kind": Kind.PROMOTE,
        "artifact": f"{app}:dev-1a2b3c4",
        "requested_by": "ann",
        "source_revision": SHA_A,
        "target_tag": "qa-1a2b3c4",
    }
    return Operation(app=app, env=env, **{**values, **fields})


def artifact(app: str = "web", tag: str = "dev-1a2b3c4", **fields: Any) -> Artifact:
    values: dict[str, Any] = {"digest": DIGEST_A, "source_revision": SHA_A, "revision": SHA_A}
    return Artifact(app=app, tag=tag, **{**values, **fields})


def deployment(app: str = "web", env: str = "qa", state: Health = Health.HEALTHY, **fields: Any) -> Deployment:
    values: dict[str, Any] = {
        "tag": "qa-1a2b3c4",
        "digest": DIGEST_A,
        "source_revision": SHA_A,
        "revision": SHA_B,
        "deployed_by": "ann",
    }
    return Deployment(app=app, env=env, state=state, **{**values, **fields})
