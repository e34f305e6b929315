"""The embedded builder (CI's stand-in): a worker thread that builds queued commits into OCI images.

`submit` queues a job and returns at once; the worker builds it with `build_now` and hands the result to
`report` as an `ArtifactBuilt`, retrying the report with backoff. A failed build or report is logged and
the worker goes on with the next job. Implements `ports.Builder`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import structlog

from promobot.adapters import oci
from promobot.adapters.builder import imaging
from promobot.adapters.builder.mirror import Mirror
from promobot.adapters.builder.spec import BuildSpec
from promobot.domain import errors, trailers
from promobot.domain.artifacts import FULL_SHA, SHA_PREFIX, artifact_tag
from promobot.domain.events import ArtifactBuilt

__all__ = ["BuildSpec", "LocalBuilder"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class _Job:
    app: str
    branch: str
    revision: str


class LocalBuilder:
    """Builds `apps` from their environment `branches` (branch → tag prefix) into `registry_root`."""

    def __init__(
        self,
        *,
        apps: Mapping[str, BuildSpec],
        branches: Mapping[str, str],
        registry_root: Path,
        workdir: Path,
        report: Callable[[ArtifactBuilt], None],
        report_attempts: int = 5,
        report_backoff: float = 0.5,
    ) -> None:
        self.apps = dict(apps)
        self.branches = dict(branches)
        self.registry_root = Path(registry_root)
        self.workdir = Path(workdir)
        self._report = report
        self._attempts = max(1, report_attempts)
        self._backoff = report_backoff
        self._locks = {app: threading.Lock() for app in self.apps}
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._work, name="promobot-builder", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the job in hand, drop the queued ones (logged) and join the worker."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        self._jobs.put(None)
        thread.join(timeout)
        if thread.is_alive():
            log.error("builder.stop_timed_out", timeout=timeout)

    def submit(self, *, app: str, branch: str, revision: str) -> None:
        self._spec(app)
        if branch not in self.branches:
            log.debug("builder.ignored_branch", app=app, branch=branch, revision=revision)
            return
        if not SHA_PREFIX.match(revision):
            raise errors.InvalidReference(f"{revision!r} is not a commit id", "give a hex commit SHA")
        self._jobs.put(_Job(app, branch, revision))

    def build_now(self, app: str, branch: str, revision: str) -> ArtifactBuilt:
        """Build (or reuse) the artifact of `revision` of `branch`, synchronously; does not call `report`."""
        spec = self._spec(app)
        prefix = self.branches.get(branch)
        if prefix is None:
            raise errors.UnknownEnvironment(
                f"{branch!r} is not an environment branch", f"use one of: {', '.join(self.branches)}"
            )
        layout = oci.layout_dir(self.registry_root, spec.image)
        with self._locks[app]:
            mirror = Mirror(self.workdir / "mirrors" / f"{app}.git", spec.remote)
            sha = mirror.commit(revision)
            commit = mirror.info(sha)
            source = trailers.parse(commit.message).get(trailers.SOURCE, sha)
            if not FULL_SHA.match(source):
                raise errors.PermanentError(
                    f"commit {sha} names source {source!r}", f"{trailers.SOURCE} must be a full commit SHA"
                )
            tag = artifact_tag(prefix, source)
            reused = _reuse(layout, app, tag, source)
            if reused is not None:
                log.info("builder.reused", app=app, tag=tag, digest=reused.digest, revision=sha)
                return reused
            recipe = imaging.Recipe(spec.image, tag, sha, source, spec.remote, spec.command, commit.committed_at)
            tar = imaging.layer(mirror.archive(sha, "app/"))
        with oci.locked(layout):
            reused = _reuse(layout, app, tag, source)
            if reused is not None:
                return reused
            digest, size = imaging.write(layout, recipe, tar)
            oci.set_tag(layout, tag, digest, size)
        log.info("builder.built", app=app, tag=tag, digest=digest, revision=sha, source_revision=source)
        return ArtifactBuilt(app=app, tag=tag, digest=digest, revision=sha, source_revision=source)

    def _spec(self, app: str) -> BuildSpec:
        try:
            return self.apps[app]
        except KeyError:
            raise errors.UnknownApp(f"unknown app {app!r}", f"use one of: {', '.join(self.apps)}") from None

    def _work(self) -> None:
        while not self._stopping.is_set():
            job = self._jobs.get()
            if job is None:
                break
            try:
                built = self.build_now(job.app, job.branch, job.revision)
            except Exception as error:
                log.error(
                    "builder.build_failed",
                    app=job.app,
                    branch=job.branch,
                    revision=job.revision,
                    error=str(error),
                    exc_info=not isinstance(error, errors.PromobotError),
                )
                continue
            self._deliver(built)
        dropped = [job for job in _drain(self._jobs) if job is not None]
        if dropped:
            log.warning("builder.dropped_jobs", jobs=[f"{j.app}@{j.branch}:{j.revision}" for j in dropped])

    def _deliver(self, built: ArtifactBuilt) -> None:
        for attempt in range(1, self._attempts + 1):
            try:
                self._report(built)
                return
            except Exception as error:
                delay = self._backoff * 2 ** (attempt - 1)
                log.warning(
                    "builder.report_failed",
                    app=built.app,
                    tag=built.tag,
                    attempt=attempt,
                    error=str(error),
                    retry_in=delay if attempt < self._attempts else None,
                )
            if attempt < self._attempts and self._stopping.wait(delay):
                # Stopping: the server no longer listens, so retrying only holds up the shutdown. The image is
                # in the registry; the next start's branch scan finds the push and reports its existing tag.
                log.warning("builder.report_left_for_restart", app=built.app, tag=built.tag, digest=built.digest)
                return
        log.error("builder.report_given_up", app=built.app, tag=built.tag, digest=built.digest)


def _reuse(layout: Path, app: str, tag: str, source: str) -> ArtifactBuilt | None:
    """The existing artifact of `tag` if it was built from `source`."""
    found = oci.tagged_config(layout, tag) if layout.is_dir() else None
    if found is None:
        return None
    digest, config = found
    labels = (config.get("config") or {}).get("Labels") or {}
    if labels.get(oci.LABEL_SOURCE) != source:
        log.warning("builder.tag_replaced", tag=tag, was=labels.get(oci.LABEL_SOURCE), now=source)
        return None
    revision = str(labels.get(oci.LABEL_REVISION) or "")
    return ArtifactBuilt(app=app, tag=tag, digest=digest, revision=revision, source_revision=source)


def _drain(jobs: queue.Queue[_Job | None]) -> list[_Job | None]:
    drained = []
    while True:
        try:
            drained.append(jobs.get_nowait())
        except queue.Empty:
            return drained
