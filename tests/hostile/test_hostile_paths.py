"""Names that become paths cannot leave their directory: the embedded registry's image layouts and blobs,
and the sandbox's app and environment names."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promobot.adapters import oci
from promobot.domain import errors
from promobot.sandbox import create
from support import tally
from support.hostile_data import FUZZ

SUITE = "hostile input"
PATHS = st.lists(
    st.sampled_from(["..", ".", "", "web", "a", "..%2f", "~", "/", "//", "x/..", "..\\x", "\x00"])
    | st.text(max_size=8),
    max_size=5,
).map("/".join) | st.text(max_size=30)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("paths")
    (root / "registry" / "web").mkdir(parents=True)
    (root / "outside").mkdir()
    (root / "registry" / "link").symlink_to(root / "outside", target_is_directory=True)
    return root / "registry"


@given(image=PATHS | st.sampled_from(["link", "link/x", "web/../../outside", "/etc", "web/./../.."]))
@settings(FUZZ, max_examples=400)
def test_an_image_name_either_is_refused_or_stays_inside_the_registry(registry: Path, image: str) -> None:
    tally.add(SUITE, "fuzz cases")
    try:
        layout = oci.layout_dir(registry, image)
    except (errors.InvalidReference, ValueError):  # ValueError: a NUL byte, which no path may hold
        return
    assert layout.resolve().is_relative_to(registry.resolve()), layout


@given(
    digest=st.text(max_size=80) | st.sampled_from(["sha256:../../x", "sha256:" + "a" * 63 + "/", "sha512:" + "a" * 64])
)
@settings(FUZZ, max_examples=300)
def test_a_blob_digest_either_is_refused_or_names_a_file_under_the_blobs(registry: Path, digest: str) -> None:
    tally.add(SUITE, "fuzz cases")
    layout = registry / "web"
    try:
        path = oci.blob_path(layout, digest)
    except errors.InvalidReference:
        return
    assert path.parent == layout / "blobs" / "sha256" and len(path.name) == 64


@pytest.mark.parametrize("name", ["../x", "..", "a/b", "/etc", "-x", "X", "a b", "x/../../y"])
def test_sandbox_names_cannot_leave_the_sandbox(tmp_path: Path, name: str) -> None:
    with pytest.raises(errors.PromobotError):
        create.sandbox(tmp_path / "sb", apps=[name], envs=["development", "qa"], port=1)
    with pytest.raises(errors.PromobotError):
        create.sandbox(tmp_path / "sb2", apps=["web"], envs=["development", name], port=1)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in ("sb", "sb2")) == []
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "y").exists()
