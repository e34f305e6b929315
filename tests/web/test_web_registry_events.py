"""Reading a Distribution notification envelope: only tagged manifest pushes come out."""

from __future__ import annotations

import json

import pytest

from promobot.domain import errors
from promobot.web import registry_events

DIGEST = "sha256:" + "d" * 64


def event(event_id: str, action: str, media_type: str, tag: str | None) -> dict[str, object]:
    target: dict[str, object] = {"mediaType": media_type, "digest": DIGEST, "repository": "team/web", "size": 1}
    if tag is not None:
        target["tag"] = tag
    return {"id": event_id, "action": action, "target": target, "request": {"method": "PUT"}, "source": {}}


def test_only_tagged_manifest_pushes_are_read_from_an_envelope() -> None:
    oci, docker = "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"
    body = {
        "events": [
            event("1", "push", oci, "qa-1a2b3c4"),
            event("2", "pull", oci, "qa-1a2b3c4"),
            event("3", "delete", oci, None),
            event("4", "push", "application/octet-stream", None),
            event("5", "push", docker, None),
            event("6", "mount", oci, "qa-1a2b3c4"),
            event("7", "push", docker, "dev-0000000"),
        ]
    }

    pushes = registry_events.parse(json.dumps(body).encode())

    assert pushes == [
        registry_events.Pushed("team/web", "qa-1a2b3c4", DIGEST, "1"),
        registry_events.Pushed("team/web", "dev-0000000", DIGEST, "7"),
    ]


@pytest.mark.parametrize("body", [b"", b"null", b'{"events": null}', b'{"events": [1]}', b"\x80"])
def test_anything_but_an_envelope_is_an_invalid_reference(body: bytes) -> None:
    with pytest.raises(errors.InvalidReference):
        registry_events.parse(body)
