"""The embedded GitOps engine: runs each environment's pinned image as a local process, health-checked.

A reconcile loop wakes every `poll_seconds` (or at once on `sync`), reads the pins and hands each
(env, app) to a small worker pool, so one slow health check does not hold up the others. A new digest is
unpacked (`unpacking`), started (`processes`) and checked (`health`); only once it is healthy is the
previous process stopped. A digest that failed is not retried until its pin changes or `sync` is called.
Results go to `report` as DeploymentReported events, retried with backoff when the receiver is not ready.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from promobot.adapters.engines import health, launching, processes, reporting, unpacking
from promobot.domain import errors
from promobot.domain.deployments import Health, Pin
from promobot.domain.events import DeploymentReported
from promobot.ports import LiveStatus

log = logging.getLogger(__name__)

Key = tuple[str, str]
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass
class _Running:
    digest: str
    child: processes.Child
    url: str
    state: Health = Health.HEALTHY


class LocalRuntime:
    """`ports.Engine` for the embedded sandbox. Call `start()` once and `stop()` on the way out."""

    def __init__(
        self,
        *,
        pins: Callable[[], Mapping[Key, Pin]],
        images: Mapping[str, str],
        registry_root: Path,
        workdir: Path,
        report: Callable[[DeploymentReported], None],
        poll_seconds: float = 1.0,
        health_timeout: float = 15.0,
        workers: int = 8,
    ) -> None:
        self._pins, self._images = pins, dict(images)
        self._registry_root, self._workdir = registry_root, workdir
        self._poll, self._health_timeout, self._workers = poll_seconds, health_timeout, workers
        self._lock = threading.Lock()
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._report = reporting.Reporter(report, stopping=self._stopping)
        self._running: dict[Key, _Running] = {}
        self._starting: dict[Key, str] = {}
        self._failed: dict[Key, str] = {}
        self._busy: set[Key] = set()
        self._children: set[processes.Child] = set()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Kill what a previous promobot left running, then start reconciling in the background."""
        if self._thread is not None:
            return
        self._workdir.mkdir(parents=True, exist_ok=True)
        processes.kill_stale(self._workdir)
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="promobot-runtime-pair")
        self._thread = threading.Thread(target=self._loop, name="promobot-runtime", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reconciling and terminate every process this runtime started; returns when all are gone."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            children = list(self._children)
            self._children.clear()
            self._running.clear()
            self._starting.clear()
        processes.stop(children)
        self._thread = self._pool = None

    def sync(self, env: str, app: str) -> None:
        with self._lock:
            self._failed.pop((env, app), None)
        self._wake.set()

    def status(self, env: str, app: str) -> LiveStatus | None:
        """What serves (env, app) now; else the digest being started (progressing) or that failed."""
        key = (env, app)
        with self._lock:
            if (running := self._running.get(key)) is not None:
                return LiveStatus(running.digest, running.state, running.url)
            if key in self._starting:
                return LiveStatus(self._starting[key], Health.PROGRESSING)
            if key in self._failed:
                return LiveStatus(self._failed[key], Health.FAILED)
        return None

    def pid(self, env: str, app: str) -> int | None:
        """The process id serving (env, app), or None."""
        with self._lock:
            running = self._running.get((env, app))
        return running.child.pid if running else None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self._reconcile_all()
            except Exception:
                log.exception("local runtime: reconcile pass failed; trying again in %.1fs", self._poll)
            self._wake.wait(self._poll)

    def _reconcile_all(self) -> None:
        pins = dict(self._pins())
        with self._lock:
            todo = [
                key
                for key in set(pins) | set(self._running)
                if key not in self._busy and not self._settled(key, pins.get(key))
            ]
            self._busy.update(todo)
        assert self._pool is not None
        for key in todo:
            self._pool.submit(self._reconcile_guarded, key, pins.get(key))

    def _settled(self, key: Key, pin: Pin | None) -> bool:
        """Nothing to do for `key` (under the lock): nothing runs there and its pin failed as it is. With a
        thousand apps pinned, most passes would otherwise hand every one to the pool for nothing."""
        return key not in self._running and pin is not None and self._failed.get(key) == pin.digest

    def _reconcile_guarded(self, key: Key, pin: Pin | None) -> None:
        try:
            if not self._stopping.is_set():
                self._reconcile(key, pin)
        except Exception:
            log.exception("local runtime: reconciling %s/%s failed", *key)
        finally:
            with self._lock:
                self._busy.discard(key)

    def _reconcile(self, key: Key, pin: Pin | None) -> None:
        with self._lock:
            running, failed = self._running.get(key), self._failed.get(key)
        note = ""
        if running is not None and running.child.popen.poll() is not None:
            if pin is not None and running.digest == pin.digest:
                note = f"restarting: the app {processes.exit_summary(running.child)}"
            self._retire(key, running)
            running = None
        if pin is None:
            if running is not None:
                self._retire(key, running)
            with self._lock:
                self._failed.pop(key, None)
        elif running is not None and running.digest == pin.digest:
            self._watch(key, running)
        elif failed != pin.digest:
            self._deploy(key, pin, note)

    def _watch(self, key: Key, running: _Running) -> None:
        problem = health.probe(running.url)
        state = Health.HEALTHY if problem is None else Health.DEGRADED
        with self._lock:
            changed, running.state = state != running.state, state
        if changed:
            message = problem or "health check /healthz answers 200 again"
            self._report(DeploymentReported(*key, running.digest, state, running.url, message))

    def _deploy(self, key: Key, pin: Pin, note: str) -> None:
        env, app = key
        image = self._images.get(app, pin.image)
        try:
            if not (SAFE_NAME.fullmatch(env) and SAFE_NAME.fullmatch(app)):
                raise errors.InvalidReference(f"{env}/{app} cannot name a directory")
            unpacked = unpacking.unpack(self._registry_root, image, pin.digest, self._workdir / env / app)
            with self._lock:
                self._starting[key] = pin.digest
            child, url = launching.launch(unpacked)
        except (errors.PromobotError, OSError, ValueError) as exc:
            self._fail(key, pin.digest, str(exc) or type(exc).__name__)
            return
        with self._lock:
            self._children.add(child)
        self._report(DeploymentReported(env, app, pin.digest, Health.PROGRESSING, message=note))
        problem = health.wait_healthy(child, url, timeout=self._health_timeout, abort=self._stopping)
        if problem is not None:
            self._stop_child(child)
            if not self._stopping.is_set():
                self._fail(key, pin.digest, problem)
            return
        with self._lock:
            previous = self._running.get(key)
            self._running[key] = _Running(pin.digest, child, url)
            self._starting.pop(key, None)
            self._failed.pop(key, None)
        if previous is not None:
            self._stop_child(previous.child)
        self._report(DeploymentReported(env, app, pin.digest, Health.HEALTHY, url))

    def _fail(self, key: Key, digest: str, message: str) -> None:
        with self._lock:
            self._failed[key] = digest
            self._starting.pop(key, None)
        log.warning("local runtime: %s/%s %s failed: %s", *key, digest, message)
        self._report(DeploymentReported(*key, digest, Health.FAILED, message=message))

    def _retire(self, key: Key, running: _Running) -> None:
        with self._lock:
            if self._running.get(key) is running:
                del self._running[key]
        self._stop_child(running.child)

    def _stop_child(self, child: processes.Child) -> None:
        processes.stop([child])
        with self._lock:
            self._children.discard(child)
