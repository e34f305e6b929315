"""A deployment into a suspended Flux Kustomization fails at once, naming it and `flux resume`, instead of
waiting out the deployment timeout: the worker reads the Kustomization from the Kubernetes API (the contract
fake, over HTTPS) and finds `spec.suspend: true` before Flux applied the new pin."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from promobot.adapters.engines import kubernetes_api
from promobot.adapters.engines.flux_engine import FluxEngine
from promobot.domain.deployments import Pin
from promobot.domain.operations import State
from promobot.service import queries
from promobot.service.context import Context
from support.fake_kubernetes import Certificates, FakeKubernetes, Grant, certificates, serve_tls
from support.fakes import World

TOKEN = "eyJhbGciOiJSUzI1NiJ9.promobot-sa-suspended"
BEFORE = "main@sha1:" + "0" * 40


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return certificates(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def kube(certs: Certificates) -> Iterator[FakeKubernetes]:
    with serve_tls(FakeKubernetes(certs, tokens={TOKEN: Grant("promobot", {"flux-system"})})) as fake:
        yield fake


@pytest.fixture
def world(
    build: Callable[[], tuple[Context, World]], kube: FakeKubernetes, tmp_path: Path
) -> Iterator[tuple[Context, World]]:
    ctx, w = build()
    (tmp_path / "kube.token").write_text(TOKEN)
    client = kubernetes_api.Client(kubernetes_api.Access(kube.url, tmp_path / "kube.token", kube.certs.ca))

    def current() -> tuple[str | None, Mapping[tuple[str, str], Pin]]:
        return (w.gitops.commits[-1].sha if w.gitops.commits else None), w.gitops.read_pins()

    engine = FluxEngine(current=current, client=client, kustomizations="{app}-{env}", reconcile=True)
    ctx.engine = engine
    try:
        yield ctx, w
    finally:
        engine.close()


def test_a_deploy_into_a_suspended_kustomization_fails_at_once_saying_to_resume_it(
    world: tuple[Context, World], kube: FakeKubernetes
) -> None:
    ctx, w = world
    kube.add("web-development", ready="True", reason="ReconciliationSucceeded", applied=BEFORE, suspend=True)

    w.builder.complete(ctx, revision=w.push(ctx))
    w.settle(ctx)  # no clock moves: nothing waits for a timeout

    [op] = queries.recent(ctx)
    assert op.state is State.FAILED
    assert op.message == (
        f"the Flux Kustomization flux-system/web-development is suspended, so it will not apply "
        f"web:{op.target_tag} in development; run `flux resume kustomization web-development`: the pin stays "
        "in git and Flux applies it once resumed"
    )
    assert w.gitops.pins[("development", "web")].tag == op.target_tag  # pinned; Flux takes it once resumed


def test_a_deploy_into_a_running_kustomization_waits_for_flux(
    world: tuple[Context, World], kube: FakeKubernetes
) -> None:
    ctx, w = world
    kube.add("web-development", ready="True", reason="ReconciliationSucceeded", applied=BEFORE)

    w.builder.complete(ctx, revision=w.push(ctx))
    w.settle(ctx)

    [op] = queries.recent(ctx)
    assert op.state is State.RUNNING, op.message
    assert kube.reconciles and kube.reconciles[-1][1] == "web-development"
