"""Fixtures for the embedded builder: a real bare remote, builders over it, and skopeo."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from builder_remote import COMMAND, Remote

from promobot.adapters import gitcli
from promobot.adapters.builder.local import BuildSpec, LocalBuilder
from promobot.domain.events import ArtifactBuilt


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    bare, clone = tmp_path / "web.git", tmp_path / "scratch"
    gitcli.run(["init", "--quiet", "--bare", str(bare)])
    gitcli.run(["clone", "--quiet", str(bare), str(clone)])
    return Remote(bare=bare, clone=clone)


@pytest.fixture
def make_builder(tmp_path: Path, remote: Remote) -> Iterator[Callable[..., LocalBuilder]]:
    """Builders over `remote` writing into tmp_path/registry; any started worker is stopped afterwards."""
    made: list[LocalBuilder] = []

    def make(
        report: Callable[[ArtifactBuilt], None] = lambda built: None, *, root: str = "registry", **kwargs: object
    ) -> LocalBuilder:
        builder = LocalBuilder(
            apps={"web": BuildSpec(remote=str(remote.bare), image="web", command=COMMAND)},
            branches={"develop": "dev", "qa": "qa"},
            registry_root=tmp_path / root,
            workdir=tmp_path / f"{root}-work",
            report=report,
            **kwargs,  # type: ignore[arg-type]
        )
        made.append(builder)
        return builder

    yield make
    for builder in made:
        builder.stop()


@pytest.fixture
def skopeo() -> str:
    path = shutil.which("skopeo")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("skopeo is missing in CI; .ci/run installs it with apt-get")
        pytest.skip("skopeo is not installed (apt-get install -y skopeo)")
    return path
