"""Fixtures for the registry adapter tests: a real `docker-registry` on loopback, stopped after each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.registry_server import RegistryServer, registry_binary

__all__ = ["registry_binary"]


@pytest.fixture
def server(registry_binary: str, tmp_path: Path) -> Iterator[RegistryServer]:
    """A registry not yet started (tests choose its auth and notifications); stopped afterwards."""
    made = RegistryServer(registry_binary, tmp_path / "registry")
    yield made
    made.stop()


@pytest.fixture
def open_registry(server: RegistryServer) -> RegistryServer:
    """A started registry with no authentication."""
    return server.start()
