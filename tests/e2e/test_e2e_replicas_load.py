"""The Done-when load test: 3 replicas on one PostgreSQL take 300 promotions across 100 apps fired at random
replicas, plus 50 concurrent promotions of one app into one environment, and every operation finishes once.

CI and the GitOps engine are played by the test (config: `builder.kind: none`, `engine.kind: flux`): as an
operation reaches `awaiting_artifact` the test posts the build to /webhooks/artifacts, and as it reaches
`deploying` it posts a healthy result to /webhooks/engine — each time to a random replica. At the end:
every operation succeeded with exactly one terminal event and events in order, one promotion commit per
operation on its branch, one pin commit per operation in the GitOps repository, the hot app's 50
promotions ran one at a time in the order asked, and each environment's history lists them all.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from promobot.sandbox import create
from support import databases
from support.replicas import Replica, Replicas
from support.running import free_port, until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

APPS = [f"a{i:03d}" for i in range(100)]
HOT = "hot"
HOT_PROMOTIONS = 50
ENVS = ["development", "qa", "staging", "prod"]
PREFIX = {"development": "dev", "qa": "qa", "staging": "staging", "prod": "prod"}
CHAIN = ["qa", "staging", "prod"]
TERMINAL = {"succeeded", "failed", "cancelled"}
IN_FLIGHT = 60  # requests at once from the test: about each replica's connection pool, not PostgreSQL's limit


def digest(app: str, tag: str) -> str:
    return "sha256:" + hashlib.sha256(f"{app}:{tag}".encode()).hexdigest()


class Fleet:
    """The replicas, their REST API and webhooks, and the apps' bare repositories."""

    def __init__(self, root: Path, group: Replicas) -> None:
        self.root, self.group = root, group
        self.user = {"Authorization": f"Bearer {self._token('developer')}"}
        self.hook = {"Authorization": f"Bearer {self._token('webhook')}"}
        self.clients = {m.port: httpx.Client(base_url=m.base_url, timeout=60) for m in group.members}
        self.in_flight = threading.BoundedSemaphore(IN_FLIGHT)

    def _token(self, name: str) -> str:
        return (self.root / "tokens" / f"{name}.token").read_text().strip()

    def pick(self) -> Replica:
        return random.choice(self.group.alive)

    def request(self, method: str, path: str, *, hook: bool = False, **kwargs: Any) -> httpx.Response:
        for attempt in range(5):
            client = self.clients[self.pick().port]
            try:
                with self.in_flight:
                    return client.request(method, path, headers=self.hook if hook else self.user, **kwargs)
            except httpx.TransportError:
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError(f"no replica answered {method} {path}")

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def git(self, app: str, *args: str) -> str:
        bare = self.root / "git" / f"{app}.git"
        done = subprocess.run(["git", "--git-dir", str(bare), *args], capture_output=True, text=True, check=False)
        return done.stdout.strip()

    def built(self, app: str, tag: str, source: str, revision: str) -> None:
        body = {"app": app, "tag": tag, "digest": digest(app, tag), "revision": revision, "source_revision": source}
        self.json("POST", "/webhooks/artifacts", hook=True, json=body)

    def promote(self, artifact: str, env: str) -> dict[str, Any]:
        operation: dict[str, Any] = self.json("POST", "/api/promote", json={"artifact": artifact, "env": env})
        return operation

    def finished(self, operation_id: int, timeout: float = 240) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            op: dict[str, Any] = self.json("GET", f"/api/operations/{operation_id}")
            return op if op["state"] in TERMINAL else None

        found: dict[str, Any] = until(done, timeout, f"operation {operation_id} to finish", every=0.5)
        return found

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


class Player(threading.Thread):
    """CI and the engine: builds for operations awaiting their artifact, healthy results for deployments.

    It reads every operation a few times a second (one paged listing) and tells waiters when one finished.
    """

    def __init__(self, fleet: Fleet) -> None:
        super().__init__(name="ci-and-engine", daemon=True)
        self.fleet = fleet
        self.stopping = threading.Event()
        self.sent: dict[tuple[int, str], float] = {}
        self.posts = 0
        self.errors: list[str] = []
        self._done: dict[int, dict[str, Any]] = {}
        self._changed = threading.Condition()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                listed = self._all()
                for op in listed:
                    if op["state"] == "running":
                        self._play(op)
                with self._changed:
                    self._done.update({op["id"]: op for op in listed if op["state"] in TERMINAL})
                    self._changed.notify_all()
            except (AssertionError, httpx.HTTPError) as exc:
                self.errors.append(str(exc))
            self.stopping.wait(0.3)

    def finished(self, operation_id: int, timeout: float = 400) -> dict[str, Any]:
        with self._changed:
            if not self._changed.wait_for(lambda: operation_id in self._done, timeout):
                raise AssertionError(f"operation {operation_id} did not finish in {timeout}s")
            return self._done[operation_id]

    def _all(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for offset in range(0, 2000, 200):
            page = self.fleet.json("GET", "/api/operations", params={"limit": 200, "offset": offset})
            found += page
            if len(page) < 200:
                break
        return found

    def _play(self, op: dict[str, Any]) -> None:
        key = (op["id"], op["step"])
        if time.monotonic() - self.sent.get(key, -10.0) < 3.0:
            return
        app, tag, env = op["app"], op["target_tag"], op["env"]
        if op["step"] == "awaiting_artifact":
            revision = self.fleet.git(app, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}")
            self.fleet.built(app, tag, op["source_revision"], revision or op["source_revision"])
        elif op["step"] == "deploying":
            body = {"env": env, "app": app, "digest": digest(app, tag), "state": "healthy"}
            self.fleet.json("POST", "/webhooks/engine", hook=True, json=body)
        else:
            return
        self.sent[key] = time.monotonic()
        self.posts += 1


@pytest.fixture
def postgresql_url(tmp_path: Path) -> Iterator[str]:
    with databases.fresh(databases.POSTGRESQL, tmp_path / "db") as url:
        yield url


def _configure(config: Path, database_url: str) -> None:
    settings = yaml.safe_load(config.read_text())
    settings["database"] = database_url
    settings["builder"] = {"kind": "none"}
    settings["engine"] = {"kind": "flux", "webhook_secret": {"file": "tokens/webhook.token"}}
    for env in settings["environments"]:
        env.pop("approval", None)  # promotions here go straight in; approvals have their own tests
    config.write_text(yaml.safe_dump(settings, sort_keys=False))


def _hot_commits(root: Path, count: int) -> list[str]:
    """`count` new commits on the hot app's develop, oldest first."""
    work = root / "work" / HOT
    people = {"GIT_AUTHOR_NAME": "Dana", "GIT_AUTHOR_EMAIL": "d@example.test"}
    env = {**os.environ, **people, "GIT_COMMITTER_NAME": "Dana", "GIT_COMMITTER_EMAIL": "d@example.test"}
    bare = str(root / "git" / f"{HOT}.git")
    subprocess.run(["git", "clone", "--quiet", "--branch", "develop", bare, str(work)], check=True, env=env)
    shas = []
    for n in range(count):
        (work / "VERSION").write_text(f"hot {n}\n")
        subprocess.run(["git", "commit", "--quiet", "-am", f"Hot change {n}"], cwd=work, check=True, env=env)
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=work, check=True, env=env, capture_output=True, text=True
        )
        shas.append(head.stdout.strip())
    subprocess.run(["git", "push", "--quiet", "origin", "HEAD:develop"], cwd=work, check=True, env=env)
    return shas


def _chain(fleet: Fleet, player: Player, app: str, source: str) -> list[dict[str, Any]]:
    """Promote the app's develop artifact to qa, then staging, then prod, each once the last one finished."""
    done = []
    from_env = "development"
    for env in CHAIN:
        op = fleet.promote(f"{app}:{PREFIX[from_env]}-{source[:7]}", env)
        done.append(player.finished(op["id"]))
        from_env = env
    return done


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_three_replicas_take_300_promotions_and_50_into_one_environment(
    postgresql_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    port = free_port()
    sandbox = create.sandbox(tmp_path / "sandbox", apps=[*APPS, HOT], envs=ENVS, port=port)
    root = sandbox.root
    _configure(sandbox.config, postgresql_url)
    group = Replicas(sandbox.config, ports=[port, free_port(), free_port()], logs=tmp_path / "logs")
    fleet = Fleet(root, group)
    player = Player(fleet)
    try:
        group.start_all()
        player.start()

        # Every app's develop head is built and deployed healthy in development (auto-deploys).
        heads = {app: fleet.git(app, "rev-parse", "develop") for app in [*APPS, HOT]}
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda a: fleet.built(a, f"dev-{heads[a][:7]}", heads[a], heads[a]), heads))
        until(
            lambda: all(r["state"] == "healthy" for r in fleet.json("GET", "/api/list") if r["env"] == "development"),
            120,
            "every app to be healthy in development",
            every=0.5,
        )

        seeded = time.monotonic()
        # The hot app: 50 source commits, each built for qa, promoted into qa all at once.
        hot = _hot_commits(root, HOT_PROMOTIONS)
        for sha in hot:
            fleet.built(HOT, f"qa-{sha[:7]}", sha, sha)

        with ThreadPoolExecutor(len(APPS) + HOT_PROMOTIONS) as pool:
            chains = [pool.submit(_chain, fleet, player, app, heads[app]) for app in APPS]
            hot_ops = list(pool.map(lambda sha: fleet.promote(f"{HOT}:qa-{sha[:7]}", "qa"), hot))
            chain_ops = [op for future in chains for op in future.result()]
        hot_done = [fleet.finished(op["id"]) for op in hot_ops]  # with their events
        promoted = time.monotonic()
        player.stopping.set()
        player.join(10)

        # --- every operation finished once, its history complete and ordered -------------------------
        listed = [
            op
            for offset in range(0, 1000, 200)
            for op in fleet.json("GET", "/api/operations", params={"limit": 200, "offset": offset})
        ]
        operations = [fleet.json("GET", f"/api/operations/{op['id']}") for op in sorted(listed, key=lambda o: o["id"])]
        assert len(operations) == len(APPS) + 1 + len(APPS) * len(CHAIN) + HOT_PROMOTIONS
        assert Counter(op["state"] for op in operations) == {"succeeded": len(operations)}, [
            (op["id"], op["message"]) for op in operations if op["state"] != "succeeded"
        ]
        duplicates = 0
        for op in operations:
            states = [e["state"] for e in op["events"]]
            assert states[0] == "queued" and states[-1] == "succeeded", (op["id"], states)
            duplicates += sum(1 for s in states if s in TERMINAL) - 1
            times = [_at(e["at"]) for e in op["events"]]
            assert times == sorted(times), (op["id"], op["events"])
        assert [op["state"] for op in chain_ops] == ["succeeded"] * len(APPS) * len(CHAIN)

        # One promotion commit per operation on its branch; one pin per operation in the GitOps repository.
        trailer = "--format=%(trailers:key=Promobot-Operation,valueonly=true,separator=)"
        commits: Counter[str] = Counter()
        for app in [*APPS, HOT]:
            for branch in ("qa", "staging", "prod"):
                commits.update(line for line in fleet.git(app, "log", trailer, branch).splitlines() if line)
        pins = Counter(line for line in fleet.git("gitops", "log", trailer, "main").splitlines() if line)
        promotions = [op for op in operations if op["kind"] == "promote"]
        assert {str(op["id"]) for op in promotions} == set(commits)
        assert {str(op["id"]) for op in operations} == set(pins)
        duplicates += sum(n - 1 for n in commits.values()) + sum(n - 1 for n in pins.values())

        # The hot app's promotions ran one at a time, in the order they were asked.
        hot_sorted = sorted(hot_done, key=lambda op: op["id"])
        spans = []
        for op in hot_sorted:
            running = next(_at(e["at"]) for e in op["events"] if e["state"] == "running")
            spans.append((running, _at(op["events"][-1]["at"])))
        for (_, previous_end), (start, _) in itertools.pairwise(spans):
            assert start >= previous_end, "two promotions of one app into one environment overlapped"
        history = fleet.json("GET", f"/api/history/{HOT}/qa", params={"limit": 500})
        assert [d["operation_id"] for d in history] == [op["id"] for op in reversed(hot_sorted)]
        assert {d["state"] for d in history} == {"healthy"}
        assert fleet.json("GET", "/api/list") and all(
            len(fleet.json("GET", f"/api/history/{app}/{env}")) == 1 for app in APPS[:10] for env in ENVS
        )

        assert duplicates == 0
        assert not player.errors, player.errors[:5]
        seconds = time.monotonic() - started
        with capsys.disabled():
            print(
                f"\nreplicas load: {len(operations)} operations ({len(APPS) * len(CHAIN)} promotions across "
                f"{len(APPS)} apps, {HOT_PROMOTIONS} concurrent into {HOT}/qa, {len(APPS) + 1} auto-deploys), "
                f"{len(group.members)} replicas, {player.posts} CI/engine webhooks, duplicates found = {duplicates}, "
                f"{seconds:.0f}s (seeded at {seeded - started:.0f}s, promoted at {promoted - started:.0f}s)"
            )
    except AssertionError:
        print(group.log_text())
        raise
    finally:
        retries = sum(m.log_text(tail=None).count("will retry") for m in group.members)
        print(f"operation retries logged: {retries}")
        player.stopping.set()
        group.stop_all()
        fleet.close()
