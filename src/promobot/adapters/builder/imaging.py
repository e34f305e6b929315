"""Turning one commit's tree into a real OCI image (layer, config, manifest) inside an image layout.

Everything here is deterministic: the same commit, command and remote give byte-identical blobs, so the
same digest, on every build.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import platform
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from promobot.adapters import oci

WORKDIR = "/app"
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True)
class Recipe:
    image: str
    tag: str
    revision: str
    source_revision: str
    remote: str
    command: list[str]
    created: datetime


def layer(archive: bytes) -> bytes:
    """Re-pack `git archive` output as a plain, reproducible tar: root-owned, normal modes, no pax comment."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as source,
        tarfile.open(fileobj=out, mode="w:", format=tarfile.PAX_FORMAT) as target,
    ):
        for member in source:
            member.uid = member.gid = 0
            member.uname = member.gname = "root"
            if member.isdir():
                member.mode = 0o755
            elif member.isfile():
                member.mode = 0o755 if member.mode & 0o100 else 0o644
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
    return out.getvalue()


def write(layout: Path, recipe: Recipe, tar: bytes) -> tuple[str, int]:
    """Write the image's blobs into `layout`; returns the manifest's (digest, size). Does not tag it."""
    layer_digest, layer_size = oci.write_blob(layout, gzip.compress(tar, compresslevel=6, mtime=0))
    created = recipe.created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    labels = {
        oci.LABEL_REVISION: recipe.revision,
        oci.LABEL_SOURCE: recipe.source_revision,
        "org.opencontainers.image.source": public_url(recipe.remote),
    }
    config = {
        "created": created,
        "architecture": _ARCH.get(platform.machine().lower(), platform.machine().lower()),
        "os": "linux",
        "config": {
            "Cmd": list(recipe.command),
            "WorkingDir": WORKDIR,
            "Env": [
                f"SOURCE_REVISION={recipe.source_revision}",
                f"REVISION={recipe.revision}",
                f"ARTIFACT={recipe.image}:{recipe.tag}",
            ],
            "Labels": labels,
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
        "history": [{"created": created, "created_by": f"promobot builder: git archive {recipe.revision}"}],
    }
    config_digest, config_size = oci.write_blob(layout, _canonical(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": oci.MANIFEST,
        "config": {"mediaType": oci.CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": oci.LAYER_GZIP, "digest": layer_digest, "size": layer_size}],
        "annotations": {**labels, "org.opencontainers.image.created": created},
    }
    return oci.write_blob(layout, _canonical(manifest))


def public_url(remote: str) -> str:
    """The remote without any user or password it may carry, fit for a label anyone can read."""
    parts = urlsplit(remote)
    if not parts.scheme or "@" not in parts.netloc:
        return remote
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
