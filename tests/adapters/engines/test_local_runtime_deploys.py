"""The local runtime deploys pinned images as processes, switching only to healthy ones."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from conftest import PinBoard, Reports, answers, get
from engine_images import build_image

from promobot.adapters.engines.local import LocalRuntime
from promobot.domain.deployments import Health


def test_a_pin_starts_the_app_which_serves_its_revision_and_is_reported_healthy(
    runtime: LocalRuntime, registry: Path, pins: PinBoard, reports: Reports
) -> None:
    digest = build_image(registry, "web", "qa-1a2b3c4", source_revision="1a2b3c4")
    pins.pin("qa", "web", digest)

    healthy = reports.wait(Health.HEALTHY, digest)

    assert healthy.env == "qa" and healthy.app == "web"
    assert healthy.url.startswith("http://127.0.0.1:")
    page = get(healthy.url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    assert "source revision: 1a2b3c4" in page.text and "artifact: web:qa-1a2b3c4" in page.text
    assert reports.of(digest) == [Health.PROGRESSING, Health.HEALTHY]
    status = runtime.status("qa", "web")
    assert status is not None
    assert (status.digest, status.state, status.url) == (digest, Health.HEALTHY, healthy.url)


def test_a_healthy_app_is_not_reported_again_on_later_polls(
    runtime: LocalRuntime, registry: Path, pins: PinBoard, reports: Reports
) -> None:
    digest = build_image(registry, "web", "qa-1", source_revision="1111111")
    pins.pin("qa", "web", digest)
    reports.wait(Health.HEALTHY, digest)

    time.sleep(1.0)  # five polls

    assert reports.of(digest) == [Health.PROGRESSING, Health.HEALTHY]


def test_a_new_pin_replaces_the_app_only_once_the_new_one_is_healthy(
    runtime: LocalRuntime, registry: Path, pins: PinBoard, reports: Reports
) -> None:
    old = build_image(registry, "web", "qa-1", source_revision="1111111")
    new = build_image(registry, "web", "qa-2", source_revision="2222222")
    pins.pin("qa", "web", old)
    old_url = reports.wait(Health.HEALTHY, old).url

    pins.pin("qa", "web", new)
    reports.wait(Health.PROGRESSING, new)
    # (That the old app keeps serving until the new one is healthy is shown deterministically by the
    # broken-image test below; here the new one may turn healthy within milliseconds.)
    new_url = reports.wait(Health.HEALTHY, new).url

    assert new_url != old_url
    assert "source revision: 2222222" in get(new_url).text
    assert not answers(old_url)


def test_a_broken_image_is_reported_failed_while_the_previous_app_keeps_serving(
    runtime: LocalRuntime, registry: Path, pins: PinBoard, reports: Reports
) -> None:
    good = build_image(registry, "web", "qa-1", source_revision="1111111")
    broken = build_image(registry, "web", "qa-2", source_revision="2222222", broken=True)
    pins.pin("qa", "web", good)
    good_url = reports.wait(Health.HEALTHY, good).url

    pins.pin("qa", "web", broken)
    failed = reports.wait(Health.FAILED, broken)

    assert "health check /healthz answered 500 for 3s" in failed.message
    assert "1111111" in get(good_url).text
    status = runtime.status("qa", "web")
    assert status is not None and (status.digest, status.state) == (good, Health.HEALTHY)


def test_a_failed_digest_is_retried_only_when_asked(
    runtime: LocalRuntime, registry: Path, pins: PinBoard, reports: Reports
) -> None:
    crashing = build_image(registry, "web", "qa-1", source_revision="1111111", cmd=("python3", "missing.py"))
    pins.pin("qa", "web", crashing)
    failed = reports.wait(Health.FAILED, crashing)
    assert failed.message.startswith("exited with status 2: ")
    assert "missing.py" in failed.message

    time.sleep(1.0)
    assert reports.of(crashing) == [Health.PROGRESSING, Health.FAILED]

    runtime.sync("qa", "web")
    deadline = time.monotonic() + 5
    while reports.of(crashing).count(Health.FAILED) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reports.of(crashing) == [Health.PROGRESSING, Health.FAILED] * 2


def test_an_image_missing_from_the_registry_is_reported_failed(
    runtime: LocalRuntime, pins: PinBoard, reports: Reports
) -> None:
    digest = "sha256:" + "ab" * 32
    pins.pin("qa", "web", digest)

    failed = reports.wait(Health.FAILED, digest)

    assert failed.message == f"image web@{digest} is not in the registry"
    status = runtime.status("qa", "web")
    assert status is not None and status.state == Health.FAILED


def test_removing_a_pin_stops_its_app_and_leaves_the_others_running(
    runtime: LocalRuntime, registry: Path, pins: PinBoard, reports: Reports
) -> None:
    web = build_image(registry, "web", "qa-1", source_revision="1111111")
    api = build_image(registry, "api", "qa-1", source_revision="3333333")
    pins.pin("qa", "web", web)
    pins.pin("qa", "api", api)
    web_url = reports.wait(Health.HEALTHY, web).url
    api_url = reports.wait(Health.HEALTHY, api).url

    pins.unpin("qa", "web")
    deadline = time.monotonic() + 5
    while runtime.status("qa", "web") is not None and time.monotonic() < deadline:
        time.sleep(0.05)

    assert runtime.status("qa", "web") is None
    assert not answers(web_url)
    assert "3333333" in get(api_url).text


def test_one_environment_s_slow_health_check_does_not_hold_up_another(
    runtime: LocalRuntime, registry: Path, pins: PinBoard, reports: Reports
) -> None:
    broken = build_image(registry, "web", "qa-1", source_revision="1111111", broken=True)
    good = build_image(registry, "api", "qa-1", source_revision="3333333")
    pins.pin("qa", "web", broken)
    reports.wait(Health.PROGRESSING, broken)
    started = time.monotonic()
    pins.pin("qa", "api", good)

    reports.wait(Health.HEALTHY, good)

    assert time.monotonic() - started < 2.5
    assert Health.FAILED not in reports.of(broken)


def test_a_report_that_fails_at_first_is_retried(
    make_runtime: object, registry: Path, pins: PinBoard, reports: Reports
) -> None:
    refusals = [RuntimeError("intake not up yet")] * 2

    def flaky(event: object) -> None:
        if refusals:
            raise refusals.pop()
        reports(event)  # type: ignore[arg-type]

    digest = build_image(registry, "web", "qa-1", source_revision="1111111")
    pins.pin("qa", "web", digest)
    make_runtime(report=flaky)  # type: ignore[operator]

    reports.wait(Health.HEALTHY, digest)
    assert reports.of(digest) == [Health.PROGRESSING, Health.HEALTHY]


def test_a_running_app_that_turns_unhealthy_is_reported_degraded_and_then_healthy_again(
    runtime: LocalRuntime, registry: Path, pins: PinBoard, reports: Reports, tmp_path: Path
) -> None:
    digest = build_image(registry, "web", "qa-1", source_revision="1111111")
    pins.pin("qa", "web", digest)
    reports.wait(Health.HEALTHY, digest)
    broken = tmp_path / "run" / "qa" / "web" / digest.removeprefix("sha256:")[:12] / "app" / "BROKEN"

    broken.touch()
    degraded = reports.wait(Health.DEGRADED, digest)
    broken.unlink()
    deadline = time.monotonic() + 5
    while reports.of(digest)[-1] != Health.HEALTHY and time.monotonic() < deadline:
        time.sleep(0.05)

    assert degraded.message == "health check /healthz answers 500"
    assert reports.of(digest) == [Health.PROGRESSING, Health.HEALTHY, Health.DEGRADED, Health.HEALTHY]


def test_an_app_that_dies_is_started_again(
    runtime: LocalRuntime, registry: Path, pins: PinBoard, reports: Reports
) -> None:
    digest = build_image(registry, "web", "qa-1", source_revision="1111111")
    pins.pin("qa", "web", digest)
    reports.wait(Health.HEALTHY, digest)
    pid = runtime.pid("qa", "web")
    assert pid is not None

    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 8
    while reports.of(digest).count(Health.HEALTHY) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

    restarting = [event for event in reports.events if event.state == Health.PROGRESSING][-1]
    assert restarting.message == "restarting: the app was killed by SIGKILL"
    assert reports.of(digest)[-2:] == [Health.PROGRESSING, Health.HEALTHY]  # maybe DEGRADED before
    status = runtime.status("qa", "web")
    assert status is not None and "1111111" in get(status.url).text and runtime.pid("qa", "web") != pid
