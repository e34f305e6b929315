"""The Kustomize base and overlays render with `kubectl kustomize` and validate against Kubernetes schemas;
the config in each loads with promobot's own loader, and the pod provides every secret it names.

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
from pydantic import BaseModel

from promobot import config

KUBE = Path(__file__).parents[2] / "deploy" / "kubernetes"
TARGETS = ["base", "overlays/dev", "overlays/prod"]
SCHEMA_VERSION = "1.30"
SQLITE = "sqlite:////var/lib/promobot/promobot.db"


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
    prod = by_kind(render("overlays/prod"), "Deployment")
    container = prod["spec"]["template"]["spec"]["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert refs["PROMOBOT_DATABASE_URL"] == {"name": "promobot-database", "key": "url"}
    assert prod["metadata"]["namespace"] == "promobot" and prod["spec"]["replicas"] >= 2
    dev = by_kind(render("overlays/dev"), "Deployment")
    values = {e["name"]: e for e in dev["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert values["PROMOBOT_DATABASE_URL"] == {"name": "PROMOBOT_DATABASE_URL", "value": SQLITE}
    assert dev["spec"]["replicas"] == 1 and dev["spec"]["strategy"] == {"type": "Recreate"}


def secrets_named(settings: config.Settings) -> tuple[set[str], set[str]]:
    """The environment variables and the files the config reads secrets from."""
    variables: set[str] = set()
    files: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, config.TokenSource) and value.env:
            variables.add(value.env)
        elif isinstance(value, config.TokenSource):
            files.add(str(value.file))
        elif isinstance(value, config.GitCredentialSettings):
            files.update(path for path in (value.ssh_key, value.known_hosts) if path)
            walk(value.password)
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(settings)
    return variables, files


@pytest.mark.parametrize("target", TARGETS)
def test_the_config_loads_with_promobots_loader_and_the_pod_provides_every_secret_it_names(
    target: str, tmp_path: Path
) -> None:
    objects = render(target)
    path = tmp_path / "promobot.yaml"
    path.write_text(by_kind(objects, "ConfigMap")["data"]["promobot.yaml"])
    settings = config.load(str(path)).settings
    pod = by_kind(objects, "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    variables, files = secrets_named(settings)

    env = {e["name"]: e for e in container["env"]}
    for name in variables:
        assert name in env, f"{target}: the config reads {name}, which the Deployment does not set"
        assert not env[name].get("valueFrom", {}).get("secretKeyRef", {}).get("optional"), f"{name} is optional"
    secret_volumes = {v["name"] for v in pod["volumes"] if "secret" in v}
    mounts = [m["mountPath"].rstrip("/") + "/" for m in container["volumeMounts"] if m["name"] in secret_volumes]
    for file in files:
        assert any(file.startswith(mount) for mount in mounts), f"{target}: no Secret is mounted where {file} is"


def test_the_production_config_uses_github_a_registry_argo_cd_slack_postgresql_and_git_credentials() -> None:
    objects = render("overlays/prod")
    settings = yaml.safe_load(by_kind(objects, "ConfigMap")["data"]["promobot.yaml"])
    assert settings["forge"]["kind"] == "github" and settings["registry"]["kind"] == "distribution"
    assert settings["engine"]["kind"] == "argocd" and settings["slack"]["bot_token"]
    assert settings["database"] == {"env": "PROMOBOT_DATABASE_URL"}
    kinds = {("ssh_key" in c) for c in settings["git"]["credentials"]}
    assert kinds == {True, False}  # the example shows both: an https token and an ssh deploy key
    repositories = [a["repository"] for a in settings["apps"]] + [settings["gitops"]["repository"]]
    for repository in repositories:
        assert any(repository.startswith(c["url"]) for c in settings["git"]["credentials"]), repository
    pod = by_kind(objects, "Deployment")["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "promobot-git")
    assert volume["secret"]["defaultMode"] & 0o077 == 0o040  # group-readable only (ssh refuses looser keys)
