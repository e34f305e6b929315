"""Argo CD Notifications bodies from promobot's template -> DeploymentReported, including the shipped one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from promobot.adapters.engines import argocd_notifications as notifications
from promobot.domain import errors
from promobot.domain.deployments import Health

OLD = "sha256:" + "a" * 64
NEW = "sha256:" + "b" * 64
CM = Path(__file__).parents[3] / "deploy" / "argocd" / "notifications-cm.yaml"


def body(**overrides: Any) -> bytes:
    data: dict[str, Any] = {
        "promobot": 1,
        "trigger": "on-deployed",
        "delivery": "web-qa/on-deployed/abc",
        "application": "web-qa",
        "env": "qa",
        "app": "web",
        "health": "Healthy",
        "sync": "Synced",
        "phase": "Succeeded",
        "images": [f"reg.example/web:qa-1a2b3c4@{NEW}"],
        "urls": ["https://web.qa.example"],
    }
    data.update(overrides)
    return json.dumps(data).encode()


def test_a_deployed_notification_reports_the_app_healthy_with_its_digest() -> None:
    parsed = notifications.parse(body())
    report = parsed.report(image="reg.example/web")
    assert report is not None
    assert (report.env, report.app, report.digest, report.state, report.url) == (
        "qa", "web", NEW, Health.HEALTHY, "https://web.qa.example"
    )  # fmt: skip
    assert parsed.delivery == "web-qa/on-deployed/abc"


def test_a_degraded_notification_carries_argo_cds_health_message() -> None:
    parsed = notifications.parse(body(trigger="on-health-degraded", health="Degraded", healthMessage="CrashLoop"))
    report = parsed.report()
    assert report is not None and (report.state, report.message) == (Health.DEGRADED, "CrashLoop")


def test_a_failed_sync_reports_the_pinned_digest_rather_than_what_still_runs() -> None:
    parsed = notifications.parse(
        body(trigger="on-sync-failed", phase="Failed", sync="OutOfSync", operationMessage="one or more objects failed",
             images=[f"web@{OLD}"])
    )  # fmt: skip
    report = parsed.report(pinned_digest=NEW)
    assert report is not None
    assert (report.digest, report.state, report.message) == (NEW, Health.FAILED, "one or more objects failed")


def test_without_labels_the_application_name_is_matched_against_the_template() -> None:
    locate = notifications.locator("{app}-{env}", ["qa", "prod"], ["web", "api"])
    parsed = notifications.parse(body(env="", app="", application="api-prod"), locate=locate)
    assert (parsed.env, parsed.app) == ("prod", "api")
    assert notifications.parse(body(env="", app="", application="other")).report() is None


@pytest.mark.parametrize("raw", [b"nope", b"[]", json.dumps({"trigger": "on-deployed"}).encode()])
def test_bodies_that_are_not_promobots_template_are_refused(raw: bytes) -> None:
    with pytest.raises(errors.InvalidReference):
        notifications.parse(raw)


def render(template: str, app: dict[str, Any]) -> str:
    """A tiny stand-in for the Go template engine: only the forms the shipped template uses."""
    import re

    def value(path: str) -> Any:
        current: Any = {"app": app}
        for key in path.strip(".").split("."):
            current = current.get(key) if isinstance(current, dict) else None
        return current

    def evaluate(expression: str) -> Any:
        if expression.startswith("(index "):
            _, path, key = expression.strip("()").split(" ", 2)
            found = value(path)
            return found.get(json.loads(key)) if isinstance(found, dict) else None
        return value(expression)

    def expand(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if expression.startswith("toJson "):
            return json.dumps(evaluate(expression.removeprefix("toJson ")))
        if expression.startswith(".app."):
            return str(value(expression))
        raise AssertionError(f"unexpected template expression {expression!r}")

    return re.sub(r"{{(.*?)}}", expand, template)


def test_the_shipped_template_renders_to_a_body_the_parser_reads() -> None:
    config = yaml.safe_load(CM.read_text())["data"]
    template = yaml.safe_load(config["template.promobot-on-deployed"])
    rendered = render(template["webhook"]["promobot"]["body"], {
        "metadata": {"name": "web-qa", "namespace": "argocd", "labels": {"promobot.io/env": "qa",
                                                                          "promobot.io/app": "web"}},
        "spec": {"project": "default"},
        "status": {"health": {"status": "Healthy"}, "sync": {"status": "Synced", "revision": "f" * 40},
                   "operationState": {"phase": "Succeeded", "finishedAt": "2024-05-01T10:00:00Z"},
                   "summary": {"images": [f"reg.example/web@{NEW}"], "externalURLs": []}},
    })  # fmt: skip
    report = notifications.parse(rendered.encode()).report(image="reg.example/web")
    assert report is not None and (report.env, report.app, report.digest) == ("qa", "web", NEW)
    assert template["webhook"]["promobot"]["path"] == "/webhooks/argocd"
