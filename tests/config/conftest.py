"""Fixtures for config tests: a complete valid configuration as data, and a writer for YAML files."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

VALID: dict[str, Any] = {
    "environments": [
        {"name": "development", "branch": "develop", "tag_prefix": "dev", "auto_deploy": True,
         "promoters": ["developer"]},
        {"name": "qa", "branch": "qa", "tag_prefix": "qa", "promoters": ["developer", "tester"]},
        {"name": "prod", "branch": "release/prod", "tag_prefix": "prod", "promoters": ["release-manager"],
         "approval": {"rule": "pull_request", "approvals": 2, "approvers": ["release-manager", "cto"]}},
    ],
    "apps": [
        {"name": "web", "repository": "git/web.git", "image": "web"},
        {"name": "api", "repository": "https://example.invalid/api.git", "image": "team/api",
         "command": ["python3", "-m", "api"]},
    ],
    "gitops": {"repository": "git/gitops.git", "branch": "main", "path": "clusters/{env}/{app}/kustomization.yaml"},
    "registry": {"kind": "oci-layout", "path": "registry"},
    "engine": {"kind": "local", "workdir": "runtime", "poll_seconds": 0.5, "health_timeout_seconds": 5},
    "builder": {"kind": "local"},
    "database": "sqlite:///promobot.db",
    "server": {"host": "127.0.0.1", "port": 8471, "webhook_token": {"env": "PROMOBOT_TEST_WEBHOOK_TOKEN"}},
    "users": [
        {"name": "alice", "roles": ["developer"], "token": {"file": "tokens/alice.token"}},
        {"name": "bob", "roles": ["release-manager", "developer"], "token": {"env": "PROMOBOT_TEST_BOB_TOKEN"}},
    ],
    "state_dir": ".promobot",
}  # fmt: skip


@pytest.fixture
def settings() -> dict[str, Any]:
    """A fresh deep copy of a complete, valid configuration that a test may change."""
    return copy.deepcopy(VALID)


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[object], Path]:
    """Write `data` as YAML (or as-is when it is a string) to tmp_path/promobot.yaml and return the path."""

    def write(data: object) -> Path:
        path = tmp_path / "promobot.yaml"
        text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write
