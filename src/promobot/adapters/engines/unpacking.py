"""Unpack one image of an OCI image layout into a directory the local runtime can run.

Reads the manifest by digest, checks every blob against its digest, and extracts the layers in order,
refusing members that would land outside the image root (absolute paths, `..`, links pointing out).
OCI whiteouts (`.wh.<name>`, `.wh..wh..opq`) are honoured. An extraction is done once per digest and
reused: it is written to a temporary directory and renamed into place when complete.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from promobot.adapters import oci
from promobot.domain import errors

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class Unpacked:
    """An extracted image: its root, and how its config says to run it."""

    root: Path
    argv: list[str]
    env: dict[str, str]
    cwd: Path


def unpack(registry_root: Path, image: str, digest: str, into: Path) -> Unpacked:
    """Extract `image@digest` into `into/<digest hex[:12]>/` (reusing a finished extraction)."""
    layout = oci.layout_dir(registry_root, image)
    ref = f"{image}@{digest}"
    if not oci.has_blob(layout, digest):
        raise errors.PermanentError(f"image {ref} is not in the registry")
    manifest = _json_blob(layout, digest, ref)
    config = _json_blob(layout, str(manifest.get("config", {}).get("digest", "")), ref)
    root = into / digest.partition(":")[2][:12]
    if not root.is_dir():
        into.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(dir=into, prefix=f".{root.name}.tmp-"))
        try:
            for layer in manifest.get("layers", []):
                _extract_layer(_verified_blob(layout, str(layer.get("digest", "")), ref), temp, ref)
            temp.rename(root)
        except tarfile.TarError as exc:
            raise errors.PermanentError(f"image {ref} has an unreadable or unsafe layer: {exc}") from exc
        except OSError:
            if not root.is_dir():  # else another worker finished the same extraction first
                raise
        finally:
            shutil.rmtree(temp, ignore_errors=True)
    return _run_spec(root, config.get("config") or {}, ref)


def _run_spec(root: Path, config: dict[str, Any], ref: str) -> Unpacked:
    argv = [str(a) for a in (config.get("Entrypoint") or []) + (config.get("Cmd") or [])]
    if not argv:
        raise errors.PermanentError(f"image {ref} has no Cmd or Entrypoint to run")
    cwd = (root / str(config.get("WorkingDir") or "/").lstrip("/")).resolve()
    if not cwd.is_relative_to(root.resolve()):
        raise errors.PermanentError(f"image {ref} has a WorkingDir outside its root")
    cwd.mkdir(parents=True, exist_ok=True)
    env = dict(str(entry).partition("=")[::2] for entry in config.get("Env") or [])
    return Unpacked(root=root, argv=argv, env=env, cwd=cwd)


def _verified_blob(layout: Path, digest: str, ref: str) -> Path:
    path = oci.blob_path(layout, digest)
    sha = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                sha.update(chunk)
    except FileNotFoundError:
        raise errors.PermanentError(f"image {ref} is incomplete: blob {digest} is missing") from None
    if "sha256:" + sha.hexdigest() != digest:
        raise errors.PermanentError(f"image {ref} is corrupt: blob {digest} does not match its digest")
    return path


def _json_blob(layout: Path, digest: str, ref: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_verified_blob(layout, digest, ref).read_bytes())
    return data


def _extract_layer(blob: Path, root: Path, ref: str) -> None:
    with tarfile.open(blob, "r:*") as tar:
        for member in tar:
            name = _safe_name(member.name, ref)
            if name is None:
                continue
            base = posixpath.basename(name)
            if base.startswith(WHITEOUT):
                _whiteout(root, name, base)
                continue
            if member.issym() or member.islnk():
                _check_link(member, name, ref)
            elif not (member.isfile() or member.isdir()):
                continue  # devices and fifos have no place in an app's tree
            target = root / name
            if (target.is_symlink() or target.exists()) and not (member.isdir() and target.is_dir()):
                _remove(target)
            tar.extract(member, root, filter="data")


def _safe_name(name: str, ref: str) -> str | None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise errors.PermanentError(f"image {ref} has an unsafe layer: member {name!r} leaves the image root")
    clean = posixpath.normpath(name)
    return None if clean in (".", "") else clean


def _check_link(member: tarfile.TarInfo, name: str, ref: str) -> None:
    link = member.linkname
    relative_to = posixpath.dirname(name) if member.issym() else ""
    resolved = posixpath.normpath(posixpath.join(relative_to, link))
    if link.startswith("/") or resolved == ".." or resolved.startswith("../"):
        raise errors.PermanentError(
            f"image {ref} has an unsafe layer: link {name!r} -> {link!r} points outside the image root"
        )


def _whiteout(root: Path, name: str, base: str) -> None:
    parent = root / posixpath.dirname(name)
    if not parent.resolve().is_relative_to(root.resolve()):
        return
    if base == OPAQUE:
        for child in parent.iterdir() if parent.is_dir() else []:
            _remove(child)
    else:
        _remove(parent / base[len(WHITEOUT) :])


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
