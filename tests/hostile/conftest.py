"""Fixtures of the hostile-input suites: the two intake sites (every integration configured), one per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.intake_site import IntakeSite


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, IntakeSite]]:
    root: Path = tmp_path_factory.mktemp("intake")
    made: dict[str, IntakeSite] = {}
    try:
        for forge in ("github", "gitlab"):
            made[forge] = IntakeSite(root / forge, forge)
        yield made
    finally:
        for site in made.values():
            site.close()
