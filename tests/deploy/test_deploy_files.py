"""Every YAML file in deploy/ parses; the CI workflows and the Dockerfile have the shape promobot needs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).parents[2] / "deploy"
YAML_FILES = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


def test_the_deploy_kit_has_yaml_files() -> None:
    assert len(YAML_FILES) >= 10


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path: Path) -> None:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    assert documents, f"{path} holds no document"


def test_the_github_workflow_builds_environment_branches_with_promobots_tag_and_labels() -> None:
    workflow = yaml.safe_load((DEPLOY / "ci" / "github-actions" / "promobot-build.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers["push"]["branches"]) == {"develop", "qa", "staging", "prod"}
    steps = workflow["jobs"]["build"]["steps"]
    script = "\n".join(str(step.get("run", "")) for step in steps)
    assert ".promobot/artifact-tag.sh" in script and "imagetools inspect" in script
    build = next(step for step in steps if str(step.get("uses", "")).startswith("docker/build-push-action"))
    assert build["if"] == "steps.exists.outputs.skip != 'true'"
    labels = build["with"]["labels"]
    assert "org.opencontainers.image.revision=" in labels and "io.promobot.source-revision=" in labels


def test_the_gitlab_pipeline_does_the_same() -> None:
    pipeline = yaml.safe_load((DEPLOY / "ci" / "gitlab" / ".gitlab-ci.yml").read_text())
    job = pipeline["promobot-build"]
    script = "\n".join(job["script"])
    assert ".promobot/artifact-tag.sh" in script and "docker manifest inspect" in script
    assert "org.opencontainers.image.revision=" in script and "io.promobot.source-revision=" in script
    assert "develop|qa|staging|prod" in job["rules"][0]["if"]


def test_the_dockerfile_is_slim_unprivileged_health_checked_and_serves() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    user = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert user and not user[-1].startswith(("0", "root"))
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert 'ENTRYPOINT ["promobot"]' in text and 'CMD ["serve"]' in text


def test_the_argocd_application_set_names_apps_as_the_engine_expects() -> None:
    appset = yaml.safe_load((DEPLOY / "argocd" / "applicationset.yaml").read_text())
    template = appset["spec"]["template"]
    assert template["metadata"]["name"] == "{{ index .path.segments 1 }}-{{ index .path.segments 0 }}"
    assert set(template["metadata"]["labels"]) == {"promobot.io/env", "promobot.io/app"}
    subscriptions = template["metadata"]["annotations"]
    for trigger in ("on-deployed", "on-sync-failed", "on-health-degraded"):
        assert f"notifications.argoproj.io/subscribe.{trigger}.promobot" in subscriptions
    cm = yaml.safe_load((DEPLOY / "argocd" / "notifications-cm.yaml").read_text())["data"]
    assert all(f"trigger.{t}" in cm for t in ("on-deployed", "on-sync-failed", "on-health-degraded"))


def test_the_flux_provider_signs_with_hmac_and_the_alert_sends_successes_too() -> None:
    provider, alert = yaml.safe_load_all((DEPLOY / "flux" / "notifications.yaml").read_text())
    assert provider["spec"]["type"] == "generic-hmac"
    assert provider["spec"]["address"].endswith("/webhooks/flux")
    assert alert["spec"]["eventSeverity"] == "info"
