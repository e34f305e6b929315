"""In-memory fakes of every port but the Store, and `make_context` to wire them into a service Context.

The Store is the real `SqlStore` on a SQLite file (fast, and no second SQL implementation to drift). Each
fake implements its Protocol from `promobot.ports` (checked by `_conforms` below when mypy reads this file)
and keeps what a test wants to look at in plain attributes: commits, branches, tags, pins, pull requests,
builds, syncs, notifications.

    ctx, world = make_context(tmp_path)
    sha = world.push(ctx)              # a commit on develop, announced to intake
    world.builder.complete(ctx)        # CI finishes: intake.built -> auto-deploy operation
    world.settle(ctx)                  # working.tick until nothing moves
    world.report(ctx, "development")   # the engine says the pinned image is healthy

Set `crash_after` on a fake to a method name to make it raise `Crash` (a BaseException, so it escapes the
worker like a killed process would) right after that method did its work.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from promobot import ports
from promobot.adapters.store.sql import SqlStore
from promobot.domain import errors, trailers
from promobot.domain.artifacts import artifact_tag
from promobot.domain.deployments import Deployment, Health, Pin
from promobot.domain.events import ArtifactBuilt, BranchPushed, DeploymentReported
from promobot.domain.operations import Operation
from promobot.domain.people import User
from promobot.domain.pipeline import App, Approval, ApprovalRule, Environment, Pipeline
from promobot.service import intake, queries, requests, working
from promobot.service.context import Context
from support import databases

REVISION_LABEL = "org.opencontainers.image.revision"
SOURCE_LABEL = "org.opencontainers.image.source-revision"
_counter = itertools.count(1)


class Crash(BaseException):
    """The process died here: escapes `working.tick` the way a kill would, leaving the store as it was."""


class Crashable:
    crash_after: set[str]

    def _maybe_crash(self, method: str) -> None:
        if method in self.crash_after:
            self.crash_after.discard(method)
            raise Crash(f"crashed right after {type(self).__name__}.{method}")


def _hex(*parts: object) -> str:
    return hashlib.sha1("\0".join(map(str, (*parts, next(_counter)))).encode()).hexdigest()


# --- the application repository -------------------------------------------------------------------------


class FakeAppRepo(Crashable):
    """One app's repository: commits with trees of files, branches and tags; a push checks `expected`."""

    def __init__(self, branches: Iterable[str] = ("develop", "qa", "staging", "prod")) -> None:
        self.commits: dict[str, ports.Commit] = {}
        self.trees: dict[str, dict[str, str]] = {}
        self.branches: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.created: list[str] = []  # commits written by create_commit, pushed or not
        self.tag_pushes: list[str] = []  # tags actually created by push_tag
        self.refreshes = 0
        self.crash_after = set()
        self._interlopers: set[str] = set()
        self._order: dict[str, int] = {}
        root = self._write({"app.py": "v0\n", "README.md": "web\n"}, (), "Initial commit", "developer")
        for branch in branches:
            self.branches[branch] = root

    # helpers for tests
    def add_commit(
        self, branch: str, files: Mapping[str, str] | None = None, *, subject: str = "", author: str = "developer"
    ) -> str:
        """Someone pushes a commit on `branch` changing `files` (default: a new app.py)."""
        head = self.branches.get(branch)
        tree = dict(self.trees[self.commits[head].tree]) if head else {}
        n = len(self.commits)
        tree.update(files if files is not None else {"app.py": f"v{n}\n"})
        sha = self._write(tree, (head,) if head else (), subject or f"Change {n}", author)
        self.branches[branch] = sha
        return sha

    def someone_pushes_first(self, branch: str) -> None:
        """The next push_branch to `branch` finds that someone else moved it a moment earlier."""
        self._interlopers.add(branch)

    def first_parent(self, branch: str) -> list[ports.Commit]:
        """The commits of `branch` along first parents, newest first."""
        found, sha = [], self.branches.get(branch)
        while sha:
            found.append(self.commits[sha])
            sha = self.commits[sha].parents[0] if self.commits[sha].parents else None
        return found

    def files(self, sha: str) -> dict[str, str]:
        return dict(self.trees[self.commits[sha].tree])

    # ports.AppRepo
    def refresh(self) -> None:
        self.refreshes += 1

    def branch_head(self, branch: str) -> str | None:
        return self.branches.get(branch)

    def resolve(self, prefix: str) -> list[str]:
        published = self._reachable([*self.branches.values(), *self.tags.values()])
        return sorted(sha for sha in published if sha.startswith(prefix))

    def commit(self, sha: str) -> ports.Commit:
        if sha not in self.commits:
            raise errors.PermanentError(f"there is no commit {sha[:7]}")
        return self.commits[sha]

    def find_by_trailer(self, branch: str, key: str, value: str, *, depth: int = 200) -> str | None:
        for found in self.first_parent(branch)[:depth]:
            if found.trailers.get(key) == value:
                return found.sha
        return None

    def create_commit(self, *, tree_of: str, parents: Sequence[str], message: str) -> str:
        for sha in (tree_of, *parents):
            self.commit(sha)
        subject, _, _ = message.partition("\n")
        sha = self._write(self.files(tree_of), tuple(parents), subject, "promobot", trailers.parse(message))
        self.created.append(sha)
        return sha

    def push_branch(self, branch: str, sha: str, *, expected: str | None) -> None:
        self.commit(sha)
        if branch in self._interlopers:
            self._interlopers.discard(branch)
            self.add_commit(branch, {"NOTES.md": "someone else was quicker\n"}, author="someone")
        current = self.branches.get(branch)
        if current == sha:
            return
        if current != expected:
            raise errors.TemporaryError(f"someone moved {branch} first; re-reading", retry_after=0.5)
        self.branches[branch] = sha
        self._maybe_crash("push_branch")

    def push_tag(self, tag: str, sha: str) -> str:
        self.commit(sha)
        if tag not in self.tags:
            self.tags[tag] = sha
            self.tag_pushes.append(tag)
        self._maybe_crash("push_tag")
        return self.tags[tag]

    def delete_branch(self, branch: str) -> None:
        self.branches.pop(branch, None)

    def log(self, base: str, head: str, *, limit: int) -> tuple[list[ports.Commit], int]:
        span = self._reachable([head]) - self._reachable([base])
        ordered = sorted(span, key=self._order.__getitem__, reverse=True)
        return [self.commits[sha] for sha in ordered[: max(limit, 0)]], len(ordered)

    def changed_files(self, base: str, head: str) -> list[str]:
        old, new = self.files(base), self.files(head)
        return sorted(path for path in old.keys() | new.keys() if old.get(path) != new.get(path))

    def _write(
        self,
        files: Mapping[str, str],
        parents: tuple[str, ...],
        subject: str,
        author: str,
        found: Mapping[str, str] | None = None,
    ) -> str:
        tree = "tree-" + hashlib.sha1(repr(sorted(files.items())).encode()).hexdigest()[:12]
        self.trees[tree] = dict(files)
        sha = _hex(tree, parents, subject)
        self.commits[sha] = ports.Commit(sha, subject, author, tree, parents, dict(found or {}))
        self._order[sha] = len(self._order)
        return sha

    def _reachable(self, heads: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        todo = [sha for sha in heads if sha]
        while todo:
            sha = todo.pop()
            if sha not in seen:
                seen.add(sha)
                todo.extend(self.commits[sha].parents)
        return seen


# --- GitOps, forge, registry ----------------------------------------------------------------------------


@dataclass
class PinCommit:
    env: str
    app: str
    pin: Pin
    message: str
    sha: str


class FakeGitOps(Crashable):
    def __init__(self) -> None:
        self.pins: dict[tuple[str, str], Pin] = {}
        self.commits: list[PinCommit] = []
        self.crash_after = set()

    def read_pins(self) -> dict[tuple[str, str], Pin]:
        return dict(self.pins)

    def write_pin(self, env: str, app: str, pin: Pin, *, message: str) -> str | None:
        if self.pins.get((env, app)) == pin:
            return None
        self.pins[(env, app)] = pin
        self.commits.append(PinCommit(env, app, pin, message, _hex(env, app, pin)))
        self._maybe_crash("write_pin")
        return self.commits[-1].sha


@dataclass
class FakePullRequest:
    number: int
    app: str
    branch: str
    base: str
    head_sha: str
    title: str
    body: str
    merged: bool = False

    @property
    def url(self) -> str:
        return f"https://forge.example/{self.app}/pull/{self.number}"


class FakeForge(Crashable):
    """Pull requests on the fake repositories; merging fast-forwards the base branch in the FakeAppRepo."""

    def __init__(self, repos: Mapping[str, FakeAppRepo]) -> None:
        self.repos = repos
        self.pulls: list[FakePullRequest] = []
        self.merges: list[int] = []
        self.crash_after = set()
        self.reviews: dict[int, list[str]] = {}  # approvals on the forge itself, by login
        self.required = 0  # what the forge's own rules require

    def open_pull_request(
        self, *, app: str, branch: str, base: str, head_sha: str, title: str, body: str
    ) -> ports.PullRequest:
        self.repos[app].commit(head_sha)
        for pr in self.pulls:
            if (pr.app, pr.branch, pr.base, pr.head_sha, pr.merged) == (app, branch, base, head_sha, False):
                return ports.PullRequest(pr.number, pr.url, pr.head_sha)
        pr = FakePullRequest(len(self.pulls) + 1, app, branch, base, head_sha, title, body)
        self.pulls.append(pr)
        self._maybe_crash("open_pull_request")
        return ports.PullRequest(pr.number, pr.url, pr.head_sha)

    def merge_pull_request(self, *, app: str, number: int, base: str, head_sha: str) -> None:
        pr = next((p for p in self.pulls if p.app == app and p.number == number), None)
        if pr is None or pr.head_sha != head_sha or pr.base != base:
            raise errors.PermanentError(f"{app} has no pull request #{number} of {head_sha[:7]} into {base}")
        repo = self.repos[app]
        if not pr.merged:
            if repo.branches.get(base) not in repo.commit(head_sha).parents[:1]:
                raise errors.TemporaryError(f"{base} moved since pull request #{number} was opened")
            repo.branches[base] = head_sha
            pr.merged = True
            self.merges.append(number)
        self._maybe_crash("merge_pull_request")

    def review_state(self, app: str, number: int) -> ports.ReviewState:
        """Like the embedded forge by default (no approvals of its own); `reviews`/`required` play a hosted one."""
        pr = next(p for p in self.pulls if p.app == app and p.number == number)
        return ports.ReviewState(
            approvals=list(self.reviews.get(number, [])),
            required=self.required,
            head_sha=pr.head_sha,
            merged=pr.merged,
            mergeable=True,
            url=pr.url,
        )

    def approve_on_forge(self, number: int, login: str) -> None:
        self.reviews.setdefault(number, []).append(login)

    def merge_by_a_person(self, app: str, number: int) -> None:
        pr = next(p for p in self.pulls if p.app == app and p.number == number)
        self.merge_pull_request(app=app, number=number, base=pr.base, head_sha=pr.head_sha)


class FakeRegistry:
    """Images by (image, tag) over a set of manifest digests per image; `delete` removes one digest."""

    def __init__(self) -> None:
        self.images: dict[tuple[str, str], ports.Image] = {}
        self.digests: dict[str, set[str]] = {}

    def put(self, image: str, tag: str, digest: str, labels: Mapping[str, str] | None = None) -> ports.Image:
        self.images[(image, tag)] = ports.Image(tag, digest, dict(labels or {}))
        self.digests.setdefault(image, set()).add(digest)
        return self.images[(image, tag)]

    def delete(self, image: str, digest: str) -> None:
        self.digests.get(image, set()).discard(digest)
        for key in [k for k, v in self.images.items() if k[0] == image and v.digest == digest]:
            del self.images[key]

    def get(self, image: str, tag: str) -> ports.Image | None:
        found = self.images.get((image, tag))
        return found if found is not None and self.exists(image, found.digest) else None

    def exists(self, image: str, digest: str) -> bool:
        return digest in self.digests.get(image, set())


# --- builder, engine, notifier, clock -------------------------------------------------------------------


@dataclass(frozen=True)
class Build:
    app: str
    branch: str
    revision: str


class FakeBuilder:
    """Records submitted builds; `complete` plays CI finishing one: image in the registry, then intake.built.

    Like the real builders, a build tags `<env prefix>-<source sha7>` (the source read from the commit's
    Promobot-Source trailer, else the commit itself) and reuses an image that already carries that tag.
    """

    def __init__(self, pipeline: Pipeline, registry: FakeRegistry, repos: Mapping[str, FakeAppRepo]) -> None:
        self.pipeline = pipeline
        self.registry = registry
        self.repos = repos
        self.submits: list[Build] = []
        self.pending: list[Build] = []

    def submit(self, *, app: str, branch: str, revision: str) -> None:
        self.submits.append(Build(app, branch, revision))
        self.pending.append(Build(app, branch, revision))

    def publish(self, build: Build) -> ArtifactBuilt:
        """Push the image of `build` to the registry and return the event, without delivering it."""
        env = self.pipeline.env_by_branch(build.branch)
        assert env is not None, f"no environment builds branch {build.branch}"
        source = self.repos[build.app].commit(build.revision).trailers.get(trailers.SOURCE, build.revision)
        tag = artifact_tag(env.tag_prefix, source)
        image = self.pipeline.app(build.app).image
        existing = self.registry.get(image, tag)
        digest = existing.digest if existing else "sha256:" + hashlib.sha256(f"{image}:{tag}".encode()).hexdigest()
        if existing is None:
            self.registry.put(image, tag, digest, {REVISION_LABEL: build.revision, SOURCE_LABEL: source})
        return ArtifactBuilt(build.app, tag, digest, build.revision, source)

    def complete(self, ctx: Context, *, app: str | None = None, revision: str | None = None) -> ArtifactBuilt:
        """Finish the oldest pending build (of `app`, of `revision`) and deliver its ArtifactBuilt to intake."""
        build = next(b for b in self.pending if app in (None, b.app) and revision in (None, b.revision))
        self.pending.remove(build)
        event = self.publish(build)
        intake.built(ctx, event)
        return event

    def complete_all(self, ctx: Context) -> list[ArtifactBuilt]:
        return [self.complete(ctx) for _ in list(self.pending)]


class FakeEngine:
    """Records syncs; what it runs is whatever a test set with `set_status` (nothing at first)."""

    def __init__(self) -> None:
        self.syncs: list[tuple[str, str]] = []
        self.live: dict[tuple[str, str], ports.LiveStatus] = {}

    def set_status(self, env: str, app: str, digest: str, state: Health = Health.HEALTHY, url: str = "") -> None:
        self.live[(env, app)] = ports.LiveStatus(digest, state, url)

    def sync(self, env: str, app: str) -> None:
        self.syncs.append((env, app))

    def status(self, env: str, app: str) -> ports.LiveStatus | None:
        return self.live.get((env, app))


class RecordingNotifier:
    def __init__(self) -> None:
        self.operations: list[Operation] = []
        self.deployments: list[Deployment] = []

    def operation_changed(self, operation: Operation) -> None:
        self.operations.append(operation)

    def deployment_changed(self, deployment: Deployment) -> None:
        self.deployments.append(deployment)

    def messages(self, operation_id: int | None) -> list[str]:
        return [op.message for op in self.operations if op.id == operation_id]


class FakeClock:
    """Stands still until told: `advance(minutes=11)`, or `at = ...`."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        self.at += (delta or timedelta()) + timedelta(**parts)
        return self.at


# --- the wired world ------------------------------------------------------------------------------------

DEVELOPER = User("developer", frozenset({"developer"}))
RELEASE_MANAGER = User("release-manager", frozenset({"release-manager"}))
USERS = {user.name: user for user in (DEVELOPER, RELEASE_MANAGER)}
PROMOTERS = frozenset({"developer", "release-manager"})
ENVS = (
    Environment("development", "develop", "dev", auto_deploy=True, promoters=PROMOTERS),
    Environment("qa", "qa", "qa", promoters=PROMOTERS),
    Environment("staging", "staging", "staging", promoters=PROMOTERS),
    Environment(
        "prod",
        "prod",
        "prod",
        approval=Approval(ApprovalRule.PULL_REQUEST, 1, frozenset({"release-manager"})),
        promoters=PROMOTERS,
    ),
)


@dataclass
class World:
    """The fakes behind one Context, the store's URL, and the moves tests make most."""

    url: str
    pipeline: Pipeline
    users: dict[str, User]
    clock: FakeClock
    repos: dict[str, FakeAppRepo]
    gitops: FakeGitOps
    forge: FakeForge
    registry: FakeRegistry
    builder: FakeBuilder
    engine: FakeEngine
    notifier: RecordingNotifier
    backoff: working.Backoff = field(default_factory=working.Backoff)
    stores: list[SqlStore] = field(default_factory=list)

    def context(self, *, restart: bool = False) -> Context:
        """A Context on these fakes; `restart` opens the same database afresh, as a new process would."""
        if restart or not self.stores:
            self.stores.append(SqlStore(self.url, clock=self.clock))
            self.stores[-1].migrate()
            self.backoff = working.Backoff()
        return Context(
            pipeline=self.pipeline,
            users=self.users,
            store=self.stores[-1],
            repos=self.repos,
            gitops=self.gitops,
            forge=self.forge,
            registry=self.registry,
            engine=self.engine,
            notifier=self.notifier,
            clock=self.clock,
            builder=self.builder,
        )

    def close(self) -> None:
        for store in self.stores:
            store.dispose()

    def push(self, ctx: Context, app: str = "web", files: Mapping[str, str] | None = None, **kw: str) -> str:
        """A developer pushes a commit to develop and the forge tells intake (which asks for a build)."""
        repo = self.repos[app]
        before = repo.branches["develop"]
        after = repo.add_commit("develop", files, **kw)
        intake.pushed(ctx, BranchPushed(app, "develop", before, after, pusher="developer"))
        return after

    def tick(self, ctx: Context) -> int:
        return working.tick(ctx, self.backoff)

    def settle(self, ctx: Context, *, limit: int = 20) -> None:
        """working.tick until no operation changes state or step."""
        seen = self._moves(ctx)
        for _ in range(limit):
            self.tick(ctx)
            now = self._moves(ctx)
            if now == seen:
                return
            seen = now
        raise AssertionError(f"operations kept moving after {limit} ticks: {seen}")

    def report(
        self,
        ctx: Context,
        env: str,
        app: str = "web",
        state: Health = Health.HEALTHY,
        *,
        digest: str | None = None,
        url: str = "",
        message: str = "",
    ) -> None:
        """The engine runs `digest` (default: what GitOps pins) in `state` and says so to intake."""
        digest = digest or self.gitops.pins[(env, app)].digest
        self.engine.set_status(env, app, digest, state, url)
        intake.reported(ctx, DeploymentReported(env, app, digest, state, url, message))

    def git_state(self) -> tuple[object, ...]:
        """Everything outside the database a command could have changed."""
        repos = tuple((dict(r.branches), dict(r.tags), len(r.created)) for r in self.repos.values())
        return repos, dict(self.gitops.pins), len(self.gitops.commits), len(self.forge.pulls), len(self.builder.submits)

    def developed(self, ctx: Context, app: str = "web", files: Mapping[str, str] | None = None) -> ArtifactBuilt:
        """A develop push, built, auto-deployed and reported healthy in the first environment."""
        sha = self.push(ctx, app, files)
        event = self.builder.complete(ctx, revision=sha)
        self.settle(ctx)
        self.report(ctx, self.pipeline.first.name, app)
        self.settle(ctx)
        return event

    def promoted(self, ctx: Context, reference: str, env: str, user: User = DEVELOPER) -> Operation:
        """`promote reference env` carried through build, pin and a healthy report; the finished operation."""
        operation = requests.promote(ctx, user, reference, env)
        self.settle(ctx)
        self.builder.complete(ctx)
        self.settle(ctx)
        self.report(ctx, env, operation.app)
        self.settle(ctx)
        return self.operation(ctx, operation.id)

    def operation(self, ctx: Context, operation_id: int | None) -> Operation:
        """The stored operation, as `promobot status` shows it."""
        return queries.status(ctx, operation_id or 0)[0]

    def _moves(self, ctx: Context) -> list[tuple[int | None, str, str]]:
        return [(op.id, op.state, op.step) for op in queries.recent(ctx, limit=1000)]


def make_context(
    tmp_path: Path,
    envs: Sequence[Environment] = ENVS,
    apps: Sequence[str] = ("web",),
    users: Mapping[str, User] | None = None,
) -> tuple[Context, World]:
    """A Context on fresh fakes and a fresh SQLite store in `tmp_path`; call `world.close()` at the end."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline(
        tuple(envs), tuple(App(name, f"https://forge.example/{name}.git", f"registry.example/{name}") for name in apps)
    )
    repos = {name: FakeAppRepo([env.branch for env in envs]) for name in apps}
    registry = FakeRegistry()
    world = World(
        url=databases.sqlite_url(tmp_path),
        pipeline=pipeline,
        users=dict(users if users is not None else USERS),
        clock=FakeClock(),
        repos=repos,
        gitops=FakeGitOps(),
        forge=FakeForge(repos),
        registry=registry,
        builder=FakeBuilder(pipeline, registry, repos),
        engine=FakeEngine(),
        notifier=RecordingNotifier(),
    )
    return world.context(), world


def _conforms(world: World) -> tuple[object, ...]:
    """Never called: mypy checks here that every fake still implements its port."""
    repo: ports.AppRepo = world.repos["web"]
    gitops: ports.GitOpsRepo = world.gitops
    forge: ports.Forge = world.forge
    registry: ports.Registry = world.registry
    builder: ports.Builder = world.builder
    engine: ports.Engine = world.engine
    notifier: ports.Notifier = world.notifier
    clock: ports.Clock = world.clock
    return repo, gitops, forge, registry, builder, engine, notifier, clock
