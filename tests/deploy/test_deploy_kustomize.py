"""The Kustomize base and overlays render with `kubectl kustomize` and validate against Kubernetes schemas.

kubectl comes from Debian's package (`apt-get install kubectl`); offline schema validation uses the
`kubernetes-validate` package, which bundles the schemas (`kubectl apply --dry-run=client` still needs a
server for discovery). Both are skipped when missing, except under CI=true where they must be present.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

KUBE = Path(__file__).parents[2] / "deploy" / "kubernetes"
TARGETS = ["base", "overlays/dev", "overlays/prod"]
SCHEMA_VERSION = "1.30"


def need(available: bool, what: str) -> None:
    if not available:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is missing on CI")
        pytest.skip(f"{what} is not installed")


def render(target: str) -> list[dict[str, Any]]:
    need(shutil.which("kubectl") is not None, "kubectl")
    done = subprocess.run(
        ["kubectl", "kustomize", str(KUBE / target)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


@pytest.mark.parametrize("target", TARGETS)
def test_each_kustomization_renders_and_validates_against_the_kubernetes_schemas(target: str) -> None:
    objects = render(target)
    try:
        import kubernetes_validate  # type: ignore[import-not-found]
    except ImportError:
        kubernetes_validate = None
    need(kubernetes_validate is not None, "the kubernetes-validate package")
    for obj in objects:
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)
    assert {o["kind"] for o in objects} >= {"Deployment", "Service", "ConfigMap", "ServiceAccount"}


@pytest.mark.parametrize("target", TARGETS)
def test_the_deployment_probes_health_runs_unprivileged_and_mounts_its_config(target: str) -> None:
    objects = render(target)
    pod = by_kind(objects, "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["resources"]["requests"] and container["resources"]["limits"]
    config = by_kind(objects, "ConfigMap")
    assert any(v["configMap"]["name"] == config["metadata"]["name"] for v in pod["volumes"] if "configMap" in v)
    settings = yaml.safe_load(config["data"]["promobot.yaml"])
    assert settings["server"]["host"] == "0.0.0.0"
    secret_refs = [e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e]
    assert secret_refs and all("name" in ref and "key" in ref for ref in secret_refs)


def test_prod_reads_its_database_url_from_a_secret_and_dev_stays_on_sqlite() -> None:
    prod = by_kind(render("overlays/prod"), "Deployment")["spec"]["template"]["spec"]["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in prod["env"] if "valueFrom" in e}
    assert refs["PROMOBOT_DATABASE_URL"] == {"name": "promobot-database", "key": "url"}
    dev = by_kind(render("overlays/dev"), "ConfigMap")
    assert yaml.safe_load(dev["data"]["promobot.yaml"])["database"].startswith("sqlite:")
    assert by_kind(render("overlays/prod"), "Deployment")["metadata"]["namespace"] == "promobot"
