"""The embedded registry reads tags, digests and labels from OCI image-layout directories."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from promobot.adapters import oci
from promobot.adapters.registry.oci_layout import OciLayoutRegistry
from promobot.domain import errors

LABELS = {oci.LABEL_REVISION: "a" * 40, oci.LABEL_SOURCE: "b" * 40}


def push(root: Path, image: str, tag: str, labels: dict[str, str], created: str = "") -> str:
    """Write a minimal image (config + manifest, no layers) tagged `tag`; returns its manifest digest."""
    layout = oci.layout_dir(root, image)
    config: dict[str, object] = {"architecture": "amd64", "os": "linux", "config": {"Labels": labels}}
    if created:
        config["created"] = created
    config_digest, config_size = oci.write_blob(layout, json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": oci.MANIFEST,
        "config": {"mediaType": oci.CONFIG, "digest": config_digest, "size": config_size},
        "layers": [],
    }
    digest, size = oci.write_blob(layout, json.dumps(manifest).encode())
    with oci.locked(layout):
        oci.set_tag(layout, tag, digest, size)
    return digest


def test_get_returns_the_tagged_image_with_its_digest_labels_and_creation_time(tmp_path: Path) -> None:
    digest = push(tmp_path, "team/web", "qa-bbbbbbb", LABELS, created="2024-05-01T12:00:00.123456789Z")

    image = OciLayoutRegistry(tmp_path).get("team/web", "qa-bbbbbbb")

    assert image is not None
    assert (image.tag, image.digest, dict(image.labels)) == ("qa-bbbbbbb", digest, LABELS)
    assert image.created == datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_exists_round_trips_with_get_until_the_manifest_is_gone(tmp_path: Path) -> None:
    registry = OciLayoutRegistry(tmp_path)
    push(tmp_path, "web", "dev-aaaaaaa", LABELS)
    image = registry.get("web", "dev-aaaaaaa")
    assert image is not None

    assert registry.exists("web", image.digest)
    oci.blob_path(tmp_path / "web", image.digest).unlink()
    assert not registry.exists("web", image.digest)
    assert registry.get("web", "dev-aaaaaaa") is None


def test_a_retagged_image_reads_as_its_newest_manifest(tmp_path: Path) -> None:
    registry = OciLayoutRegistry(tmp_path)
    old = push(tmp_path, "web", "dev-aaaaaaa", LABELS)
    new = push(tmp_path, "web", "dev-aaaaaaa", {**LABELS, "rebuilt": "yes"})

    image = registry.get("web", "dev-aaaaaaa")

    assert image is not None and image.digest == new != old
    assert registry.exists("web", old)


def test_get_of_an_unknown_tag_or_image_is_none(tmp_path: Path) -> None:
    registry = OciLayoutRegistry(tmp_path)
    push(tmp_path, "web", "dev-aaaaaaa", {})

    assert registry.get("web", "dev-1234567") is None
    assert registry.get("api", "dev-aaaaaaa") is None
    assert not registry.exists("api", oci.digest_of(b"nothing"))
    image = registry.get("web", "dev-aaaaaaa")
    assert image is not None and image.labels == {} and image.created is None


@pytest.mark.parametrize("image", ["../web", "team/../../web", "/etc"])
def test_an_image_name_that_leaves_the_registry_directory_is_refused(tmp_path: Path, image: str) -> None:
    registry = OciLayoutRegistry(tmp_path / "registry")

    with pytest.raises(errors.InvalidReference):
        registry.get(image, "dev-aaaaaaa")
    with pytest.raises(errors.InvalidReference):
        registry.exists(image, oci.digest_of(b"x"))
