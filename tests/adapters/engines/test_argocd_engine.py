"""ArgoCDEngine against the contract fake: status mapping, sync only without auto-sync, retries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from promobot.adapters.engines.argocd import ArgoCDEngine
from promobot.domain import errors
from promobot.domain.deployments import Health
from support.fake_argocd import FakeArgoCD

TOKEN = "argocd-secret-token-0123456789"
OLD = "sha256:" + "a" * 64
NEW = "sha256:" + "b" * 64

Make = Callable[..., ArgoCDEngine]


@pytest.fixture
def argo() -> Iterator[FakeArgoCD]:
    with FakeArgoCD(tokens={TOKEN: {"default"}}) as fake:
        yield fake


@pytest.fixture
def make(argo: FakeArgoCD) -> Iterator[Make]:
    made: list[ArgoCDEngine] = []

    def make(**options: object) -> ArgoCDEngine:
        settings: dict[str, object] = {"url": argo.url, "token": TOKEN, "backoff": 0.0, "images": {"web": "web"}}
        engine = ArgoCDEngine(**{**settings, **options})  # type: ignore[arg-type]
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()


@pytest.mark.parametrize(
    ("health", "sync", "phase", "expected"),
    [
        ("Healthy", "Synced", "Succeeded", Health.HEALTHY),
        ("Healthy", "Synced", "Running", Health.PROGRESSING),
        ("Progressing", "Synced", "Succeeded", Health.PROGRESSING),
        ("Suspended", "Synced", "Succeeded", Health.PROGRESSING),
        ("Degraded", "Synced", "Succeeded", Health.DEGRADED),
        ("Missing", "OutOfSync", "", Health.PROGRESSING),
        ("Unknown", "Synced", "Succeeded", Health.NONE),
        ("Healthy", "OutOfSync", "Failed", Health.FAILED),
        ("Healthy", "OutOfSync", "Error", Health.FAILED),
    ],
)
def test_status_maps_argo_health_and_sync_to_promobot_health(
    argo: FakeArgoCD, make: Make, health: str, sync: str, phase: str, expected: Health
) -> None:
    argo.add("web-qa", health=health, sync=sync, phase=phase, images=[f"reg.example/web:qa-1@{OLD}"])
    live = make().status("qa", "web")
    assert live is not None
    assert live.state is expected


def test_status_reads_the_digest_of_the_apps_image_among_several(argo: FakeArgoCD, make: Make) -> None:
    argo.add(
        "web-qa",
        images=[f"reg.example/sidecar@{NEW}", f"reg.example:5000/team/web@{OLD}", "redis:7"],
        urls=["https://web.qa.example"],
    )
    live = make().status("qa", "web")
    assert live is not None
    assert (live.digest, live.url) == (OLD, "https://web.qa.example")


def test_a_failed_sync_reports_the_digest_git_asked_for_not_the_one_still_running(argo: FakeArgoCD, make: Make) -> None:
    argo.add("web-qa", sync="OutOfSync", phase="Failed", images=[f"web@{OLD}"], desired_images=[f"web@{NEW}"])
    live = make().status("qa", "web")
    assert live is not None
    assert (live.digest, live.state) == (NEW, Health.FAILED)


def test_sync_asks_argo_cd_when_auto_sync_is_off(argo: FakeArgoCD, make: Make) -> None:
    argo.add("web-qa", auto_sync=False)
    make().sync("qa", "web")
    assert argo.syncs == ["web-qa"]


def test_sync_leaves_it_to_argo_cd_when_auto_sync_is_on(argo: FakeArgoCD, make: Make) -> None:
    argo.add("web-qa", auto_sync=True)
    make().sync("qa", "web")
    assert argo.syncs == []
    assert all(seen.method == "GET" for seen in argo.requests)


def test_application_names_follow_the_template_or_a_function(argo: FakeArgoCD, make: Make) -> None:
    argo.add("qa-web", auto_sync=False)
    argo.add("web-in-qa", auto_sync=False)
    make(applications="{env}-{app}").sync("qa", "web")
    make(applications=lambda env, app: f"{app}-in-{env}").sync("qa", "web")
    assert argo.syncs == ["qa-web", "web-in-qa"]


def test_sync_while_another_operation_runs_is_temporary(argo: FakeArgoCD, make: Make) -> None:
    argo.add("web-qa", phase="Running")
    with pytest.raises(errors.TemporaryError, match="another operation is already in progress"):
        make().sync("qa", "web")


def test_server_errors_are_retried_then_succeed(argo: FakeArgoCD, make: Make) -> None:
    argo.add("web-qa", images=[f"web@{OLD}"])
    argo.fail_next = [503, 502]
    live = make(attempts=3).status("qa", "web")
    assert live is not None and live.digest == OLD
    assert len(argo.requests) == 3


def test_server_errors_that_last_become_a_temporary_error(argo: FakeArgoCD, make: Make) -> None:
    argo.add("web-qa")
    argo.fail_next = [500, 500, 500]
    with pytest.raises(errors.TemporaryError, match="500"):
        make(attempts=3).status("qa", "web")


def test_an_unreachable_argo_cd_is_a_temporary_error(make: Make) -> None:
    engine = make(url="http://127.0.0.1:9", attempts=2, timeout=0.5)
    with pytest.raises(errors.TemporaryError, match="cannot reach Argo CD"):
        engine.status("qa", "web")


def test_the_token_never_appears_in_errors_or_logs(
    argo: FakeArgoCD, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    argo.fail_next = [503, 503]
    failures: list[str] = []
    for call in (
        lambda: make(attempts=2).status("qa", "web"),
        lambda: make(token="wrong-" + TOKEN).sync("qa", "web"),
        lambda: make().sync("prod", "web"),
    ):
        with pytest.raises(errors.PromobotError) as caught:
            call()
        failures.append(str(caught.value))
    assert all(seen.authorization == f"Bearer {TOKEN}" for seen in argo.requests[:2])
    assert TOKEN not in " ".join(failures) + caplog.text
