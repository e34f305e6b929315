"""Events from the outside world, as the intake hands them to the service layer (past tense)."""

from __future__ import annotations

from dataclasses import dataclass

from promobot.domain.deployments import Health


@dataclass(frozen=True)
class BranchPushed:
    """A forge (or the sandbox's push hook) says `branch` of `app` moved to `after`."""

    app: str
    branch: str
    before: str
    after: str
    pusher: str = ""


@dataclass(frozen=True)
class ArtifactBuilt:
    """CI (or the embedded builder) pushed `image:tag` built from `revision` (code from `source_revision`)."""

    app: str
    tag: str
    digest: str
    revision: str
    source_revision: str


@dataclass(frozen=True)
class DeploymentReported:
    """The GitOps engine says how `env`/`app` is doing with the image of `digest`."""

    env: str
    app: str
    digest: str
    state: Health
    url: str = ""
    message: str = ""


@dataclass(frozen=True)
class PullRequestChanged:
    """A forge says pull request `number` of `app` changed: reviewed, merged, closed or pushed to."""

    app: str
    number: int


Event = BranchPushed | ArtifactBuilt | DeploymentReported | PullRequestChanged
