"""Forge webhook events as small values, the same for GitHub and GitLab, so the intake handles both alike.

`github_webhooks` and `gitlab_webhooks` turn a verified delivery into one of these (or None for events
promobot does not act on). `repo` is the forge's own name for the repository ("owner/name",
"group/project"); the intake maps it back to an app with the forge's configuration.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PullRequestChanged:
    """A pull (merge) request was opened, updated, closed or merged."""

    repo: str
    number: int
    action: str  # the forge's own word: opened, synchronize, closed, ... / open, update, merge, close, ...
    branch: str
    base: str
    head_sha: str
    merged: bool
    merge_sha: str
    url: str
    sender: str


@dataclass(frozen=True)
class Reviewed:
    """Someone reviewed a pull request; `state` is lower case: approved, changes_requested, commented, dismissed."""

    repo: str
    number: int
    reviewer: str
    state: str
    head_sha: str
    url: str


@dataclass(frozen=True)
class Pushed:
    """A branch or tag moved; `branch` is empty for a tag, `after` is all zeros for a deletion."""

    repo: str
    ref: str
    branch: str
    before: str
    after: str
    deleted: bool
    pusher: str


@dataclass(frozen=True)
class BuildChanged:
    """A CI run (workflow run, pipeline) changed; `status` is queued, in_progress or completed."""

    repo: str
    run_id: int
    name: str
    branch: str
    head_sha: str
    status: str
    conclusion: str  # success, failure, cancelled, skipped, ... once completed; "" before
    url: str


Event = PullRequestChanged | Reviewed | Pushed | BuildChanged


@dataclass(frozen=True)
class Delivery:
    """One verified webhook delivery: its id (for dropping duplicates), the forge's event name, the event."""

    id: str
    kind: str
    event: Event | None
