"""Deployments: what an environment runs, as reported by the GitOps engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Health(StrEnum):
    HEALTHY = "healthy"
    PROGRESSING = "progressing"
    DEGRADED = "degraded"
    FAILED = "failed"
    NONE = "none"

    @property
    def finished(self) -> bool:
        return self in (Health.HEALTHY, Health.DEGRADED, Health.FAILED)


@dataclass
class Deployment:
    """One artifact pinned into one environment, and how that went."""

    app: str
    env: str
    tag: str
    digest: str
    source_revision: str
    revision: str
    state: Health = Health.PROGRESSING
    deployed_by: str = ""
    operation_id: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    url: str = ""
    message: str = ""
    id: int | None = None

    @property
    def artifact(self) -> str:
        return f"{self.app}:{self.tag}"


@dataclass(frozen=True)
class Hold:
    """An environment kept on its rolled-back artifact: auto-deploy skips it until a promote or unpin."""

    app: str
    env: str
    tag: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Pin:
    """What the GitOps repository pins for one (environment, app)."""

    image: str
    tag: str
    digest: str
