"""Test images for the local runtime: OCI layouts written with `promobot.adapters.oci`.

The sample app's app.py in a gzip tar layer under app/, a config running `python3 app.py` in /app with
SOURCE_REVISION, REVISION and ARTIFACT in Env; optionally app/BROKEN (fails /healthz) or any raw members.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from pathlib import Path

import promobot
from promobot.adapters import oci

SAMPLE_APP = Path(promobot.__file__).parent / "sandbox" / "sample_app" / "app.py"
Member = tuple[tarfile.TarInfo, bytes]


def file_member(name: str, data: bytes, mode: int = 0o644) -> Member:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    return info, data


def symlink_member(name: str, target: str) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info, b""


def hardlink_member(name: str, target: str) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.LNKTYPE, target
    return info, b""


def sample_members(*, broken: bool = False) -> list[Member]:
    members = [file_member("app/app.py", SAMPLE_APP.read_bytes())]
    if broken:
        members.append(file_member("app/BROKEN", b"broken on purpose\n"))
    return members


def build_image(
    root: Path,
    image: str,
    tag: str,
    *,
    source_revision: str,
    members: Sequence[Member] | None = None,
    broken: bool = False,
    cmd: Sequence[str] = ("python3", "app.py"),
) -> str:
    """Write `image:tag` into the layout registry at `root`; returns the manifest digest."""
    layout = oci.layout_dir(root, image)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members if members is not None else sample_members(broken=broken):
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    layer_digest, layer_size = oci.write_blob(layout, gzip.compress(raw.getvalue(), mtime=0))
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Cmd": list(cmd),
            "WorkingDir": "/app",
            "Env": [
                f"SOURCE_REVISION={source_revision}",
                f"REVISION={source_revision[::-1]}",
                f"ARTIFACT={image}:{tag}",
            ],
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()]},
    }
    config_digest, config_size = oci.write_blob(layout, json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": oci.MANIFEST,
        "config": {"mediaType": oci.CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": oci.LAYER_GZIP, "digest": layer_digest, "size": layer_size}],
    }
    digest, size = oci.write_blob(layout, json.dumps(manifest).encode())
    with oci.locked(layout):
        oci.set_tag(layout, tag, digest, size)
    return digest
