"""The Flux engine's `kubernetes` section: in the cluster or by URL, and each mistake named in one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from promobot import bootstrap, config
from promobot.adapters.engines.flux_engine import FluxEngine
from promobot.domain import errors

Write = Callable[[object], Path]
FLUX = {"kind": "flux", "webhook_secret": {"env": "PROMOBOT_TEST_FLUX_SECRET"}}
BY_URL = {"url": "https://kube.example.com:6443", "token_file": "tokens/kube.token"}


@pytest.mark.parametrize(
    ("engine", "says"),
    [
        ({**FLUX, "kubernetes": {}}, "engine.kubernetes: give `in_cluster: true`, or `url` (https://...) and"),
        ({**FLUX, "kubernetes": {"url": "https://k.example.com"}}, "engine.kubernetes: give `in_cluster: true`"),
        ({**FLUX, "kubernetes": {**BY_URL, "url": "http://k.example.com"}}, "engine.kubernetes.url: String should"),
        ({**FLUX, "kubernetes": {**BY_URL, "in_cluster": True}}, "engine.kubernetes: `in_cluster: true` reads"),
        ({**FLUX, "kubernetes": {**BY_URL, "environments": ["staging"]}},
         "engine.kubernetes.environments: staging is not an environment"),
        ({**FLUX, "reconcile": True}, "engine: `reconcile: true` needs `kubernetes`"),
        ({**FLUX, "namespace": "Flux_System"}, "engine.namespace: must be a Kubernetes namespace name"),
    ],
)  # fmt: skip
def test_kubernetes_mistakes_name_the_key_and_what_is_expected(
    settings: dict[str, Any], write_config: Write, engine: dict[str, Any], says: str
) -> None:
    settings.update(engine=engine, builder={"kind": "none"})

    with pytest.raises(errors.ConfigError) as caught:
        config.load(str(write_config(settings)))

    assert str(caught.value).startswith(f"{write_config(settings)}: {says}"), str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"PROMOBOT_TEST_FLUX_SECRET": "flux-secret", "PROMOBOT_TEST_WEBHOOK_TOKEN": "hook",
                        "PROMOBOT_TEST_BOB_TOKEN": "bob"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("secrets")
def test_in_cluster_outside_a_pod_stops_the_build_with_one_line(
    settings: dict[str, Any], write_config: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    settings.update(engine={**FLUX, "kubernetes": {"in_cluster": True}}, builder={"kind": "none"})
    path = write_config(settings)
    (path.parent / "tokens").mkdir(exist_ok=True)
    (path.parent / "tokens" / "alice.token").write_text("alice")

    with pytest.raises(errors.ConfigError, match="not running in a Kubernetes pod"):
        bootstrap.build(config.load(str(path)), background=False)


@pytest.mark.usefixtures("secrets")
def test_a_flux_engine_by_url_reads_only_its_environments(settings: dict[str, Any], write_config: Write) -> None:
    env = settings["environments"][-1]["name"]
    kubernetes = {**BY_URL, "environments": [env]}
    settings.update(engine={**FLUX, "kubernetes": kubernetes, "reconcile": True}, builder={"kind": "none"})
    path = write_config(settings)
    (path.parent / "tokens").mkdir(exist_ok=True)
    (path.parent / "tokens" / "alice.token").write_text("alice")
    application = bootstrap.build(config.load(str(path)), background=False)
    try:
        engine = application.ctx.engine
        assert isinstance(engine, FluxEngine)
        assert engine.reads(env) and not engine.reads(settings["environments"][0]["name"])
        engine.close()
    finally:
        application.ctx.store.dispose()  # type: ignore[attr-defined]
