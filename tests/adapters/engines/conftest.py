"""Fixtures for the local runtime: a layout registry, pins the test moves, reports it waits for."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from promobot.adapters.engines.local import LocalRuntime
from promobot.domain.deployments import Health, Pin
from promobot.domain.events import DeploymentReported


class Reports:
    """Every DeploymentReported the runtime sent, and a way to wait for one."""

    def __init__(self) -> None:
        self.events: list[DeploymentReported] = []
        self._changed = threading.Condition()

    def __call__(self, event: DeploymentReported) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def wait(self, state: Health, digest: str, timeout: float = 10.0) -> DeploymentReported:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.events:
                    if event.state == state and event.digest == digest:
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {state} report for {digest} in {timeout}s; got {self.events}")
                self._changed.wait(left)

    def of(self, digest: str) -> list[Health]:
        with self._changed:
            return [event.state for event in self.events if event.digest == digest]


class PinBoard:
    """What the GitOps repository pins, changed by the test while the runtime reads it."""

    def __init__(self) -> None:
        self._pins: dict[tuple[str, str], Pin] = {}
        self._lock = threading.Lock()

    def __call__(self) -> dict[tuple[str, str], Pin]:
        with self._lock:
            return dict(self._pins)

    def pin(self, env: str, app: str, digest: str, tag: str = "t") -> None:
        with self._lock:
            self._pins[(env, app)] = Pin(image=app, tag=tag, digest=digest)

    def unpin(self, env: str, app: str) -> None:
        with self._lock:
            del self._pins[(env, app)]


def get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=2.0, trust_env=False)


def answers(url: str) -> bool:
    try:
        get(url)
    except httpx.TransportError:
        return False
    return True


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return tmp_path / "registry"


@pytest.fixture
def reports() -> Reports:
    return Reports()


@pytest.fixture
def pins() -> PinBoard:
    return PinBoard()


@pytest.fixture
def make_runtime(
    tmp_path: Path, registry: Path, reports: Reports, pins: PinBoard
) -> Iterator[Callable[..., LocalRuntime]]:
    """Started runtimes over `registry` and tmp_path/run; every one is stopped when the test ends."""
    made: list[LocalRuntime] = []

    def make(**overrides: object) -> LocalRuntime:
        options: dict[str, object] = {
            "pins": pins,
            "images": {"web": "web", "api": "api"},
            "registry_root": registry,
            "workdir": tmp_path / "run",
            "report": reports,
            "poll_seconds": 0.2,
            "health_timeout": 3.0,
        }
        options.update(overrides)
        runtime = LocalRuntime(**options)  # type: ignore[arg-type]
        made.append(runtime)
        runtime.start()
        return runtime

    yield make
    for runtime in made:
        runtime.stop()


@pytest.fixture
def runtime(make_runtime: Callable[..., LocalRuntime]) -> LocalRuntime:
    return make_runtime()
