"""Fixtures for the service tests: a Context on in-memory fakes and a real SQLite store per test."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from promobot.service.context import Context  # noqa: E402
from support import fakes  # noqa: E402

Build = Callable[..., tuple[Context, fakes.World]]


@pytest.fixture
def build(tmp_path: Path) -> Iterator[Build]:
    """`build(apps=("web", "api"), users=...)`: a fresh (ctx, world); closed when the test ends."""
    worlds: list[fakes.World] = []

    def make(**options: Any) -> tuple[Context, fakes.World]:
        ctx, world = fakes.make_context(tmp_path / f"world{len(worlds)}", **options)
        worlds.append(world)
        return ctx, world

    yield make
    for world in worlds:
        world.close()


@pytest.fixture
def wired(build: Build) -> tuple[Context, fakes.World]:
    return build()
