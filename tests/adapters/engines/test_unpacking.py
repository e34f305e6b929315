"""Images are unpacked once per digest, and layers reaching outside the image root are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PinBoard, Reports
from engine_images import Member, build_image, file_member, hardlink_member, sample_members, symlink_member

from promobot.adapters.engines import unpacking
from promobot.adapters.engines.local import LocalRuntime
from promobot.domain import errors
from promobot.domain.deployments import Health


def test_an_image_unpacks_into_a_directory_named_by_its_digest(registry: Path, tmp_path: Path) -> None:
    digest = build_image(registry, "web", "qa-1", source_revision="1111111")

    unpacked = unpacking.unpack(registry, "web", digest, tmp_path / "qa" / "web")

    assert unpacked.root == tmp_path / "qa" / "web" / digest.removeprefix("sha256:")[:12]
    assert unpacked.cwd == unpacked.root / "app"
    assert (unpacked.cwd / "app.py").is_file()
    assert unpacked.argv == ["python3", "app.py"]
    assert unpacked.env["SOURCE_REVISION"] == "1111111"


def test_an_existing_extraction_is_reused(registry: Path, tmp_path: Path) -> None:
    digest = build_image(registry, "web", "qa-1", source_revision="1111111")
    first = unpacking.unpack(registry, "web", digest, tmp_path)
    (first.cwd / "BROKEN").write_text("left by a person\n")

    again = unpacking.unpack(registry, "web", digest, tmp_path)

    assert again.root == first.root and (again.cwd / "BROKEN").exists()


@pytest.mark.parametrize(
    ("member", "complaint"),
    [
        (file_member("../evil", b"x"), "member '../evil' leaves the image root"),
        (file_member("app/../../evil", b"x"), "leaves the image root"),
        (file_member("/etc/evil", b"x"), "member '/etc/evil' leaves the image root"),
        (symlink_member("app/escape", "../../outside"), "points outside the image root"),
        (symlink_member("app/abs", "/etc/passwd"), "points outside the image root"),
        (hardlink_member("app/hard", "../../etc/passwd"), "points outside the image root"),
    ],
)
def test_a_layer_reaching_outside_the_image_root_is_refused(
    registry: Path, tmp_path: Path, member: Member, complaint: str
) -> None:
    members = [*sample_members(), member]
    digest = build_image(registry, "web", "evil", source_revision="6666666", members=members)

    with pytest.raises(errors.PermanentError, match="unsafe layer") as refused:
        unpacking.unpack(registry, "web", digest, tmp_path / "run")

    assert complaint in str(refused.value)
    assert not (tmp_path / "evil").exists() and not (tmp_path / "outside").exists()
    assert [p.name for p in (tmp_path / "run").iterdir()] == []


def test_the_runtime_reports_an_unsafe_image_failed(
    runtime: LocalRuntime, registry: Path, pins: PinBoard, reports: Reports, tmp_path: Path
) -> None:
    members = [*sample_members(), file_member("../evil", b"x")]
    digest = build_image(registry, "web", "evil", source_revision="6666666", members=members)
    pins.pin("qa", "web", digest)

    failed = reports.wait(Health.FAILED, digest)

    assert "unsafe layer: member '../evil' leaves the image root" in failed.message
    assert not (tmp_path / "run" / "qa" / "evil").exists()
    assert reports.of(digest) == [Health.FAILED]


def test_a_whiteout_removes_the_file_it_names(registry: Path, tmp_path: Path) -> None:
    members = [*sample_members(), file_member("app/BROKEN", b"x"), file_member("app/.wh.BROKEN", b"")]
    digest = build_image(registry, "web", "qa-1", source_revision="1111111", members=members)

    unpacked = unpacking.unpack(registry, "web", digest, tmp_path)

    assert not (unpacked.cwd / "BROKEN").exists() and (unpacked.cwd / "app.py").exists()
