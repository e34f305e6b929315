"""Parse a Distribution registry's notification envelope into the tag pushes promobot cares about.

The registry POSTs `{"events": [...]}` (media type `application/vnd.docker.distribution.events.v1+json`,
or `v2` from Distribution 3). Each event has an `id`, an `action` (push, pull, mount, delete) and a
`target` (mediaType, digest, repository, tag, ...), plus `request` and `source` records we do not need.
Pure: no I/O. Pulls, mounts, deletes, blob pushes and manifest pushes by digest (no tag) are dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from promobot.domain import errors

MEDIA_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.events.v1+json",
        "application/vnd.docker.distribution.events.v2+json",
        "application/json",
    }
)
MANIFESTS = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    }
)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_REPOSITORY = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,254}$")


@dataclass(frozen=True)
class Pushed:
    """A manifest was pushed to `image` under `tag`."""

    image: str
    tag: str
    digest: str
    event_id: str


def parse(body: bytes) -> list[Pushed]:
    """The tag pushes in an envelope, in order. Raises InvalidReference when the body is not an envelope."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise errors.InvalidReference("the notification body is not JSON") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("events"), list):
        raise errors.InvalidReference('the notification body must be an envelope: {"events": [...]}')
    pushes: list[Pushed] = []
    for event in envelope["events"]:
        if not isinstance(event, dict):
            raise errors.InvalidReference("each notification event must be a JSON object")
        pushed = _push(event)
        if pushed is not None:
            pushes.append(pushed)
    return pushes


def _push(event: dict[str, Any]) -> Pushed | None:
    target = event.get("target")
    if event.get("action") != "push" or not isinstance(target, dict):
        return None
    tag = target.get("tag")
    if not tag or target.get("mediaType") not in MANIFESTS:
        return None
    event_id, digest, repository = event.get("id"), target.get("digest"), target.get("repository")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 200:
        raise errors.InvalidReference("a notification event has no usable `id`")
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise errors.InvalidReference(f"event {event_id}: target.digest is not a sha256 digest")
    if not isinstance(repository, str) or not _REPOSITORY.match(repository):
        raise errors.InvalidReference(f"event {event_id}: target.repository is not an image name")
    if not isinstance(tag, str) or not _TAG.match(tag):
        raise errors.InvalidReference(f"event {event_id}: target.tag is not a tag")
    return Pushed(image=repository, tag=tag, digest=digest, event_id=event_id)
