"""The embedded builder writes real, reproducible OCI images from environment-branch commits."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from builder_remote import COMMAND, Remote

from promobot.adapters import oci
from promobot.adapters.builder.local import LocalBuilder
from promobot.domain import errors

FILES = {"app.py": "print('hello')\n", "static/index.html": "<h1>web</h1>\n"}


def run(*argv: str) -> bytes:
    return subprocess.run(argv, capture_output=True, check=True, timeout=60).stdout


def inspect(skopeo: str, layout: Path, tag: str, *flags: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(run(skopeo, "inspect", *flags, f"oci:{layout}:{tag}"))
    return data


def blob_count(layout: Path) -> int:
    return len(list((layout / "blobs" / "sha256").iterdir()))


def test_a_develop_build_is_an_image_skopeo_reads_with_labels_and_command(
    remote: Remote, make_builder: Callable[..., LocalBuilder], skopeo: str, tmp_path: Path
) -> None:
    sha = remote.commit("develop", FILES)

    built = make_builder().build_now("web", "develop", sha)

    layout = tmp_path / "registry" / "web"
    assert (built.tag, built.revision, built.source_revision) == (f"dev-{sha[:7]}", sha, sha)
    raw = run(skopeo, "inspect", "--raw", f"oci:{layout}:{built.tag}")
    assert oci.digest_of(raw) == built.digest
    manifest = json.loads(raw)
    assert (manifest["mediaType"], manifest["config"]["mediaType"]) == (oci.MANIFEST, oci.CONFIG)
    run(skopeo, "copy", "--quiet", f"oci:{layout}:{built.tag}", f"dir:{tmp_path / 'copy'}")  # checks every digest
    config = inspect(skopeo, layout, built.tag, "--config")
    assert config["config"]["Cmd"] == COMMAND
    assert config["config"]["WorkingDir"] == "/app"
    assert config["config"]["Labels"] == {
        "org.opencontainers.image.revision": sha,
        "io.promobot.source-revision": sha,
        "org.opencontainers.image.source": str(remote.bare),
    }
    assert f"ARTIFACT=web:dev-{sha[:7]}" in config["config"]["Env"]
    assert config["created"] == "2024-05-01T12:00:01Z"


def test_a_qa_commit_is_tagged_after_the_source_its_trailer_names(
    remote: Remote, make_builder: Callable[..., LocalBuilder], skopeo: str, tmp_path: Path
) -> None:
    source = remote.commit("develop", FILES)
    promotion = remote.promote(source, "qa")

    built = make_builder().build_now("web", "qa", promotion)

    assert (built.tag, built.revision, built.source_revision) == (f"qa-{source[:7]}", promotion, source)
    env = inspect(skopeo, tmp_path / "registry" / "web", built.tag, "--config")["config"]["Env"]
    assert env == [f"SOURCE_REVISION={source}", f"REVISION={promotion}", f"ARTIFACT=web:qa-{source[:7]}"]


def test_the_layer_holds_the_commits_files_under_app(
    remote: Remote, make_builder: Callable[..., LocalBuilder], tmp_path: Path
) -> None:
    built = make_builder().build_now("web", "develop", remote.commit("develop", FILES))

    layout = tmp_path / "registry" / "web"
    manifest = oci.read_json_blob(layout, built.digest)
    config = oci.read_json_blob(layout, manifest["config"]["digest"])
    tar = gzip.decompress(oci.blob_path(layout, manifest["layers"][0]["digest"]).read_bytes())
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(tar).hexdigest()]
    unpacked = tmp_path / "rootfs"
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        assert {m.uname for m in archive.getmembers()} == {"root"}
        archive.extractall(unpacked, filter="data")
    assert {str(p.relative_to(unpacked)) for p in unpacked.rglob("*") if p.is_file()} == {
        "app/app.py",
        "app/static/index.html",
    }
    assert (unpacked / "app" / "app.py").read_text() == FILES["app.py"]


def test_building_the_same_source_again_reuses_its_tag_and_another_source_makes_a_new_one(
    remote: Remote, make_builder: Callable[..., LocalBuilder], tmp_path: Path
) -> None:
    builder = make_builder()
    source = remote.commit("develop", FILES)
    first = builder.build_now("web", "qa", remote.promote(source, "qa"))
    layout = tmp_path / "registry" / "web"
    blobs, index = blob_count(layout), (layout / "index.json").read_bytes()

    again = builder.build_now("web", "qa", remote.promote(source, "qa"))

    assert again == first
    assert (blob_count(layout), (layout / "index.json").read_bytes()) == (blobs, index)
    newer = remote.commit("develop", {"app.py": "print('bye')\n"})
    other = builder.build_now("web", "qa", remote.promote(newer, "qa"))
    assert other.tag == f"qa-{newer[:7]}" != first.tag
    assert other.digest != first.digest
    assert oci.find_tag(layout, first.tag) is not None


def test_the_same_commit_builds_the_same_digest_anywhere(
    remote: Remote, make_builder: Callable[..., LocalBuilder]
) -> None:
    sha = remote.commit("develop", FILES)

    one = make_builder(root="one").build_now("web", "develop", sha)
    two = make_builder(root="two").build_now("web", "develop", sha)

    assert one.digest == two.digest


def test_a_revision_missing_from_the_remote_fails_with_a_clear_message(
    remote: Remote, make_builder: Callable[..., LocalBuilder]
) -> None:
    remote.commit("develop", FILES)

    with pytest.raises(errors.PermanentError, match="is not in"):
        make_builder().build_now("web", "develop", "0" * 40)


def test_a_branch_that_is_not_an_environment_branch_cannot_be_built(
    remote: Remote, make_builder: Callable[..., LocalBuilder]
) -> None:
    sha = remote.commit("feature", FILES)

    with pytest.raises(errors.UnknownEnvironment):
        make_builder().build_now("web", "feature", sha)
