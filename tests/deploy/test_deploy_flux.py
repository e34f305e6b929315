"""deploy/flux renders with `kubectl kustomize`, and what it grants and names fits what the Flux engine asks for.

The engine GETs and (with `reconcile: true`) PATCHes `kustomize.toolkit.fluxcd.io/v1` Kustomizations named
by `engine.kustomizations` in `engine.namespace`; a Role that misses a verb or sits in another namespace
shows up in production as a 403, so the shipped files are checked against the config's defaults.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from promobot import config

DEPLOY = Path(__file__).parents[2] / "deploy"


def rendered() -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is missing on CI")
        pytest.skip("kubectl is not installed")
    done = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY / "flux")], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def test_the_role_lets_promobot_read_and_annotate_the_kustomizations_where_they_are() -> None:
    objects = rendered()
    kustomization, role = one(objects, "Kustomization"), one(objects, "Role")
    defaults = config.FluxEngineSettings.model_fields
    assert kustomization["metadata"]["namespace"] == defaults["namespace"].default == role["metadata"]["namespace"]
    template = defaults["kustomizations"].default
    assert kustomization["metadata"]["name"] == template.format(app="web", env="qa")
    [rule] = role["rules"]
    assert rule["apiGroups"] == ["kustomize.toolkit.fluxcd.io"] and rule["resources"] == ["kustomizations"]
    assert {"get", "list", "watch", "patch"} <= set(rule["verbs"])


def test_the_role_is_bound_to_the_service_account_promobot_runs_as() -> None:
    binding = one(rendered(), "RoleBinding")
    account = yaml.safe_load((DEPLOY / "kubernetes" / "base" / "serviceaccount.yaml").read_text())
    overlay = yaml.safe_load((DEPLOY / "kubernetes" / "overlays" / "prod" / "kustomization.yaml").read_text())
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": "promobot-kustomizations"}  # fmt: skip
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": overlay["namespace"]}
    ]
