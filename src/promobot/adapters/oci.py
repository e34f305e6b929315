"""OCI image layout on disk: blobs, manifests and the tag index, read and written.

One layout directory per image (`<registry root>/<image>/`), as the OCI image-layout spec describes:
`oci-layout`, `index.json` (tags as `org.opencontainers.image.ref.name` annotations) and
`blobs/sha256/<hex>`. Shared by the layout registry, the embedded builder and the local runtime.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from promobot import ports
from promobot.domain import errors

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"
LABEL_REVISION = "org.opencontainers.image.revision"
LABEL_SOURCE = "io.promobot.source-revision"

Json = dict[str, Any]


def layout_dir(root: Path, image: str) -> Path:
    """The layout of `image` under `root`, refusing names that would leave `root`."""
    target = (root / image).resolve()
    if image.startswith("/") or ".." in Path(image).parts or not target.is_relative_to(root.resolve()):
        raise errors.InvalidReference(f"image name {image!r} leaves the registry directory")
    return target


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob_path(layout: Path, digest: str) -> Path:
    algorithm, _, hexpart = digest.partition(":")
    if algorithm != "sha256" or len(hexpart) != 64 or not all(c in "0123456789abcdef" for c in hexpart):
        raise errors.InvalidReference(f"{digest!r} is not a sha256 digest")
    return layout / "blobs" / "sha256" / hexpart


def read_index(layout: Path) -> Json:
    try:
        index: Json = json.loads((layout / "index.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"schemaVersion": 2, "mediaType": INDEX, "manifests": []}
    return index


def read_json_blob(layout: Path, digest: str) -> Json:
    data: Json = json.loads(blob_path(layout, digest).read_bytes())
    return data


def find_tag(layout: Path, tag: str) -> Json | None:
    """The index descriptor of `tag`, or None."""
    for descriptor in read_index(layout).get("manifests", []):
        if descriptor.get("annotations", {}).get(REF_NAME) == tag:
            return dict(descriptor)
    return None


def tagged_config(layout: Path, tag: str) -> tuple[str, Json] | None:
    """The manifest digest and the image config of `tag`; None if the tag or its blobs are missing."""
    descriptor = find_tag(layout, tag)
    if descriptor is None:
        return None
    digest = str(descriptor.get("digest", ""))
    try:
        manifest = read_json_blob(layout, digest)
        return digest, read_json_blob(layout, str(manifest["config"]["digest"]))
    except (FileNotFoundError, KeyError, TypeError):
        return None


def has_blob(layout: Path, digest: str) -> bool:
    return blob_path(layout, digest).is_file()


def write_blob(layout: Path, data: bytes) -> tuple[str, int]:
    """Store `data` content-addressed; returns (digest, size). Writing the same bytes twice is a no-op."""
    digest = digest_of(data)
    path = blob_path(layout, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, data)
    return digest, len(data)


@contextmanager
def locked(layout: Path) -> Iterator[None]:
    """Hold the layout's lock while changing its index (other processes may write too)."""
    layout.mkdir(parents=True, exist_ok=True)
    with open(layout / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def set_tag(layout: Path, tag: str, manifest_digest: str, manifest_size: int) -> None:
    """Point `tag` at a manifest (replacing an older one of the same tag). Call inside `locked`."""
    layout_file = layout / "oci-layout"
    if not layout_file.exists():
        _atomic_write(layout_file, json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
    index = read_index(layout)
    manifests = [d for d in index.get("manifests", []) if d.get("annotations", {}).get(REF_NAME) != tag]
    manifests.append(
        {
            "mediaType": MANIFEST,
            "digest": manifest_digest,
            "size": manifest_size,
            "annotations": {REF_NAME: tag},
        }
    )
    index["manifests"] = manifests
    _atomic_write(layout / "index.json", json.dumps(index, indent=1).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


_FRACTION = re.compile(r"(\.\d{6})\d+")


def image(tag: str, digest: str, config: Json) -> ports.Image:
    """The port's view of an image: its manifest digest, its config's labels and creation time."""
    labels = (config.get("config") or {}).get("Labels") or {}
    return ports.Image(
        tag=tag,
        digest=digest,
        labels={str(key): str(value) for key, value in labels.items()},
        created=_created(config.get("created")),
    )


def _created(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(_FRACTION.sub(r"\1", value))
    except ValueError:
        return None
