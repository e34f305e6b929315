"""The Flux engine against the Kubernetes API contract fake, over HTTPS with its own CA.

What promobot says runs for (env, app) comes from the Kustomization's Ready condition and the revision it
is about, paired with the GitOps head's pin; reconciles are asked for by a merge-patched annotation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from promobot.adapters.engines import kubernetes_api
from promobot.adapters.engines.flux_engine import FluxEngine
from promobot.domain import errors
from promobot.domain.deployments import Health, Pin
from promobot.ports import LiveStatus
from support.fake_kubernetes import READING, Certificates, FakeKubernetes, Grant, certificates, serve_tls

HEAD, OLDER = "1" * 40, "2" * 40
DIGEST = "sha256:" + "d" * 64
TOKEN = "eyJhbGciOiJSUzI1NiJ9.service-account-token"
PINS = {("qa", "web"): Pin(image="web", tag="qa-1a2b3c4", digest=DIGEST)}


def current() -> tuple[str | None, dict[tuple[str, str], Pin]]:
    return HEAD, PINS


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return certificates(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def kube(certs: Certificates) -> Iterator[FakeKubernetes]:
    grants = {TOKEN: Grant("promobot", {"flux-system"}), "reader": Grant("reader", {"flux-system"}, READING)}
    with serve_tls(FakeKubernetes(certs, tokens=grants)) as fake:
        yield fake


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path


def engine(kube: FakeKubernetes, token_file: Path, *, ca: Path | None = None, **options: object) -> FluxEngine:
    access = kubernetes_api.Access(kube.url, token_file, ca if ca is not None else kube.certs.ca)
    client = kubernetes_api.Client(access, attempts=2, backoff=0.01)
    now = lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # noqa: E731
    return FluxEngine(current=current, client=client, now=now, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("revision", [f"main@sha1:{HEAD}", f"main/{HEAD}"])
def test_a_kustomization_ready_at_the_gitops_head_runs_the_heads_pin_healthy(
    kube: FakeKubernetes, token_file: Path, revision: str
) -> None:
    kube.add("web-qa", ready="True", reason="ReconciliationSucceeded", applied=revision)
    assert engine(kube, token_file).status("qa", "web") == LiveStatus(DIGEST, Health.HEALTHY)
    assert kube.requests[-1].path == "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/web-qa"


@pytest.mark.parametrize(
    ("ready", "reason", "state"),
    [
        ("False", "HealthCheckFailed", Health.DEGRADED),
        ("False", "ReconciliationFailed", Health.FAILED),
        ("False", "BuildFailed", Health.FAILED),
        ("False", "DependencyNotReady", Health.PROGRESSING),
        ("Unknown", "Progressing", Health.PROGRESSING),
    ],
)
def test_a_kustomization_that_tried_the_head_reports_its_ready_reason(
    kube: FakeKubernetes, token_file: Path, ready: str, reason: str, state: Health
) -> None:
    kube.add("web-qa", ready=ready, reason=reason, applied=f"main@sha1:{OLDER}", attempted=f"main@sha1:{HEAD}")
    assert engine(kube, token_file).status("qa", "web") == LiveStatus(DIGEST, state)


def test_a_kustomization_still_at_an_older_revision_leaves_the_heads_pin_progressing(
    kube: FakeKubernetes, token_file: Path
) -> None:
    kube.add("web-qa", ready="True", reason="ReconciliationSucceeded", applied=f"main@sha1:{OLDER}")
    assert engine(kube, token_file).status("qa", "web") == LiveStatus(DIGEST, Health.PROGRESSING)


def test_a_ready_condition_for_an_older_generation_is_not_trusted(kube: FakeKubernetes, token_file: Path) -> None:
    kube.add("web-qa", ready="True", reason="ReconciliationSucceeded", applied=f"main@sha1:{HEAD}",
             generation=3, observed_generation=2)  # fmt: skip
    assert engine(kube, token_file).status("qa", "web") == LiveStatus(DIGEST, Health.PROGRESSING)


def test_nothing_is_reported_without_a_kustomization_a_ready_condition_or_a_pin(
    kube: FakeKubernetes, token_file: Path
) -> None:
    flux = engine(kube, token_file)
    assert flux.status("qa", "web") is None  # 404
    kube.add("web-qa", ready=None)  # created, not reconciled yet: no conditions
    assert flux.status("qa", "web") is None
    kube.add("api-qa", ready="True", reason="ReconciliationSucceeded", applied=f"main@sha1:{HEAD}")
    assert flux.status("qa", "api") is None  # nothing pinned for api in qa


def test_the_name_and_namespace_follow_their_templates(kube: FakeKubernetes, token_file: Path) -> None:
    kube.add("apps-web", namespace="flux-system", ready="True", reason="ReconciliationSucceeded", applied=HEAD)
    flux = engine(kube, token_file, kustomizations="apps-{app}", namespace="flux-system")
    assert flux.status("qa", "web") == LiveStatus(DIGEST, Health.HEALTHY)


def test_environments_outside_the_cluster_are_not_asked_about(kube: FakeKubernetes, token_file: Path) -> None:
    flux = engine(kube, token_file, environments=["prod"], reconcile=True)
    assert flux.status("qa", "web") is None
    flux.sync("qa", "web")
    assert kube.requests == []


def test_a_reconcile_is_asked_for_with_a_merge_patched_annotation(kube: FakeKubernetes, token_file: Path) -> None:
    kube.add("web-qa", ready="True", reason="ReconciliationSucceeded", applied=f"main@sha1:{OLDER}")
    engine(kube, token_file, reconcile=True).sync("qa", "web")
    assert kube.reconciles == [("flux-system", "web-qa", "2026-01-02T03:04:05+00:00")]
    assert kube.requests[-1].headers["content-type"] == "application/merge-patch+json"
    assert kube.objects[("flux-system", "web-qa")].generation == 1  # metadata only: no new generation


def test_without_reconcile_sync_leaves_flux_to_its_interval(kube: FakeKubernetes, token_file: Path) -> None:
    kube.add("web-qa")
    engine(kube, token_file).sync("qa", "web")
    assert kube.requests == [] and kube.reconciles == []


def test_a_reconcile_of_a_missing_kustomization_names_the_templates(kube: FakeKubernetes, token_file: Path) -> None:
    with pytest.raises(kubernetes_api.NotFound, match="no Flux Kustomization 'web-qa' in namespace 'flux-system'"):
        engine(kube, token_file, reconcile=True).sync("qa", "web")


def test_a_service_account_without_patch_rights_is_told_the_rbac_it_needs(
    kube: FakeKubernetes, token_file: Path
) -> None:
    kube.add("web-qa")
    token_file.write_text("reader")
    flux = engine(kube, token_file, reconcile=True)
    assert flux.status("qa", "web") == LiveStatus(DIGEST, Health.PROGRESSING)  # get is allowed
    with pytest.raises(kubernetes_api.Forbidden) as refused:
        flux.sync("qa", "web")
    assert "get, list, watch and patch" in str(refused.value) and "deploy/flux/rbac.yaml" in str(refused.value)
    assert kube.reconciles == []


def test_a_kustomization_in_a_namespace_without_a_role_is_forbidden(kube: FakeKubernetes, token_file: Path) -> None:
    with pytest.raises(kubernetes_api.Forbidden, match="does not let promobot get Kustomization apps/web-qa"):
        engine(kube, token_file, namespace="apps").status("qa", "web")


def test_a_refused_token_is_a_permanent_error_that_never_shows_the_token(
    kube: FakeKubernetes, token_file: Path
) -> None:
    token_file.write_text("expired-token-value")
    with pytest.raises(errors.PermanentError) as refused:
        engine(kube, token_file).status("qa", "web")
    assert "401" in str(refused.value) and "expired-token-value" not in str(refused.value)


def test_the_token_is_read_again_on_every_request_as_it_rotates(kube: FakeKubernetes, token_file: Path) -> None:
    kube.add("web-qa", ready="True", reason="ReconciliationSucceeded", applied=f"main@sha1:{HEAD}")
    flux = engine(kube, token_file)
    assert flux.status("qa", "web") is not None
    kube.tokens = {"rotated": Grant("promobot", {"flux-system"})}
    token_file.write_text("rotated\n")
    assert flux.status("qa", "web") == LiveStatus(DIGEST, Health.HEALTHY)
    assert kube.requests[-1].headers["authorization"] == "Bearer rotated"


def test_a_server_certificate_from_another_ca_is_refused(
    kube: FakeKubernetes, token_file: Path, tmp_path: Path
) -> None:
    other = certificates(tmp_path / "other", "other")
    kube.add("web-qa")
    with pytest.raises(errors.PermanentError, match="certificate promobot does not trust"):
        engine(kube, token_file, ca=other.ca).status("qa", "web")
    assert kube.requests == []  # the token never left promobot


def test_a_busy_api_server_is_a_temporary_error(kube: FakeKubernetes, token_file: Path) -> None:
    kube.add("web-qa")
    kube.fail_next = [503, 503]
    with pytest.raises(errors.TemporaryError, match="answered 503"):
        engine(kube, token_file).status("qa", "web")


def test_in_cluster_access_reads_the_pods_service_account(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN)
    environ = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    access = kubernetes_api.Access.in_cluster(environ, tmp_path)
    assert access == kubernetes_api.Access("https://10.96.0.1:443", tmp_path / "token", tmp_path / "ca.crt")
    ipv6 = kubernetes_api.Access.in_cluster({**environ, "KUBERNETES_SERVICE_HOST": "fd00::1"}, tmp_path)
    assert ipv6.url == "https://[fd00::1]:443"


def test_in_cluster_access_outside_a_pod_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError, match="not running in a Kubernetes pod"):
        kubernetes_api.Access.in_cluster({}, tmp_path)


def test_an_unreadable_ca_file_is_a_config_error(tmp_path: Path, token_file: Path) -> None:
    with pytest.raises(errors.ConfigError, match="CA certificate"):
        kubernetes_api.Client(kubernetes_api.Access("https://127.0.0.1:1", token_file, tmp_path / "missing.crt"))


@pytest.mark.parametrize(
    ("namespace", "resume"),
    [("flux-system", "`flux resume kustomization web-qa`:"), ("apps", "`flux resume kustomization web-qa -n apps`:")],
)
def test_a_suspended_kustomization_that_has_not_applied_the_head_says_to_resume_it(
    kube: FakeKubernetes, token_file: Path, namespace: str, resume: str
) -> None:
    kube.tokens = {TOKEN: Grant("promobot", {namespace})}
    kube.add("web-qa", namespace=namespace, ready="True", reason="ReconciliationSucceeded",
             applied=f"main@sha1:{OLDER}", suspend=True, generation=2)  # fmt: skip
    flux = engine(kube, token_file, namespace=namespace)

    with pytest.raises(errors.PermanentError) as suspended:
        flux.status("qa", "web")

    said = str(suspended.value)
    assert said.startswith(
        f"the Flux Kustomization {namespace}/web-qa is suspended, so it will not apply web:qa-1a2b3c4"
    )
    assert resume in said and "\n" not in said


def test_a_suspended_kustomization_never_reconciled_says_to_resume_it_rather_than_nothing(
    kube: FakeKubernetes, token_file: Path
) -> None:
    kube.add("web-qa", ready=None, suspend=True)  # created suspended: no conditions ever
    with pytest.raises(errors.PermanentError, match="web-qa is suspended"):
        engine(kube, token_file).status("qa", "web")


@pytest.mark.parametrize(
    ("ready", "reason", "state"),
    [("True", "ReconciliationSucceeded", Health.HEALTHY), ("False", "HealthCheckFailed", Health.DEGRADED)],
)
def test_a_kustomization_suspended_after_it_finished_with_the_head_reports_that_result(
    kube: FakeKubernetes, token_file: Path, ready: str, reason: str, state: Health
) -> None:
    # `flux suspend` raised the generation; the controller never observes it while suspended
    kube.add("web-qa", ready=ready, reason=reason, applied=f"main@sha1:{HEAD}", suspend=True,
             generation=2, observed_generation=1)  # fmt: skip
    assert engine(kube, token_file).status("qa", "web") == LiveStatus(DIGEST, state)


def test_a_resumed_kustomization_is_read_as_before(kube: FakeKubernetes, token_file: Path) -> None:
    kube.add("web-qa", ready="True", reason="ReconciliationSucceeded", applied=f"main@sha1:{OLDER}", suspend=True)
    flux = engine(kube, token_file)
    with pytest.raises(errors.PermanentError):
        flux.status("qa", "web")
    kube.show("web-qa", suspend=False)
    assert flux.status("qa", "web") == LiveStatus(DIGEST, Health.PROGRESSING)
    kube.show("web-qa", applied=f"main@sha1:{HEAD}")
    assert flux.status("qa", "web") == LiveStatus(DIGEST, Health.HEALTHY)
