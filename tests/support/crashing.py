"""For the SIGKILL harness: drive `promobot serve` over its REST API and check that git, registry and database agree.

    crash = Crasher(setup)
    op = crash.at("promote.commit_pushed", lambda: crash.promote("web:qa-1a2b3c4", "staging"))
    crash.wait(op)
    assert crash.problems(op) == []

`at` starts serve with PROMOBOT_CRASH_AT, runs the driver, sees the process die of SIGKILL and starts it
again without the variable. `problems` lists every way the end state differs
from "finished exactly once": one commit with the operation's trailer on the branch, its tag on that commit,
one GitOps pin commit whose digest is the registry's digest for the tag, one deployment record, no second
operation for the same thing, and `list` showing it healthy. `chat_problems` does the same for its Slack
message: with `report_to(setup, slack)` serve reports to a fake Slack that lives in the test process (it
outlives every kill), and each operation must have exactly one top-level message, saying it succeeded.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

from promobot.adapters.git import kustomize
from promobot.adapters.registry.oci_layout import OciLayoutRegistry
from support.fake_slack import FakeSlack
from support.running import Setup, serves, until

T = TypeVar("T")
FINISHED = ("succeeded", "failed", "cancelled")
SETTLED = (*FINISHED, "awaiting_approval")
GITOPS_BRANCH = "main"


def report_to(setup: Setup, slack: FakeSlack) -> None:
    """Make serve report operations to `slack` (the fake's Web API) in its default channel."""
    (setup.root / "slack").mkdir(exist_ok=True)
    (setup.root / "slack" / "signing").write_text("crash-harness-signing-secret\n")
    (setup.root / "slack" / "bot").write_text("xoxb-crash-harness\n")
    settings = yaml.safe_load(setup.config.read_text())
    settings["slack"] = {
        "signing_secret": {"file": str(setup.root / "slack" / "signing")},
        "bot_token": {"file": str(setup.root / "slack" / "bot")},
        "channels": {"default": "#deploys"},
        "api_url": slack.base_url,
    }
    setup.config.write_text(yaml.safe_dump(settings, sort_keys=False))


class Crasher:
    def __init__(self, setup: Setup, slack: FakeSlack | None = None) -> None:
        self.s = setup
        self.slack = slack
        self.registry = OciLayoutRegistry(setup.root / "registry")
        self.tokens = {name: (setup.root / "tokens" / f"{name}.token").read_text().strip() for name in USERS}
        self.branches = {name: env["branch"] for name, env in environments(setup.config).items()}
        self.points: list[str] = []
        self.operations: set[int] = set()
        self._lost: tuple[str, Callable[[dict[str, Any]], bool]] | None = None

    # --- the REST API -------------------------------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None, user: str = "developer") -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        response = httpx.request(method, self.s.base_url + path, json=body, headers=headers, timeout=10)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def promote(self, artifact: str, env: str) -> int | None:
        """The new operation's id; None when serve died before answering (`resolve` finds it later)."""
        body = {"artifact": artifact, "env": env}
        return self._start("/api/promote", body, env, lambda op: (op["kind"], op["artifact"]) == ("promote", artifact))

    def rollback(self, env: str, app: str = "web") -> int | None:
        known = {op["id"] for op in self._ops(env)}
        return self._start("/api/rollback", {"target": app, "env": env}, env, lambda op: op["id"] not in known)

    def _start(self, path: str, body: dict[str, str], env: str, match: Callable[[dict[str, Any]], bool]) -> int | None:
        self._lost = None
        try:
            return self._track(self.call("POST", path, body)["id"])
        except httpx.HTTPError:  # killed at a point the request itself reached (operation.claimed)
            self._lost = (env, match)
            return None

    def resolve(self, operation_id: int | None) -> int:
        """`operation_id`, or the operation whose request lost its answer."""
        if operation_id is not None:
            return operation_id
        assert self._lost is not None, "no request lost its answer"
        env, match = self._lost
        found = until(lambda: next((op for op in self._ops(env) if match(op)), None), 10, f"the lost operation {env}")
        return self._track(found["id"])

    def approve(self, operation_id: int) -> int:
        with contextlib.suppress(httpx.HTTPError):  # serve may die inside this very request (approve.*)
            self.call("POST", f"/api/operations/{operation_id}/approve", user="release-manager")
        return operation_id

    def row(self, env: str, app: str = "web") -> dict[str, Any]:
        """What `list` shows for (app, env)."""
        found: dict[str, Any] = next(r for r in self.call("GET", "/api/list") if (r["app"], r["env"]) == (app, env))
        return found

    def operation(self, operation_id: int) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", f"/api/operations/{operation_id}")
        return found

    def wait(self, operation_id: int, states: tuple[str, ...] = FINISHED, timeout: float = 30) -> dict[str, Any]:
        found: dict[str, Any] = until(
            lambda: (op := self.operation(operation_id))["state"] in states and op,
            timeout,
            f"operation {operation_id} to reach one of {states}",
        )
        return found

    def deployed(self, sha: str) -> int:
        """The auto-deploy operation a develop push of `sha` started."""
        found = until(
            lambda: next((op for op in self._ops("development") if op["source_revision"] == sha), None),
            20,
            f"an auto-deploy of {sha[:7]}",
        )
        return self._track(found["id"])

    def _ops(self, env: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.call("GET", f"/api/operations?app=web&env={env}&limit=200")
        return found

    def _track(self, operation_id: int) -> int:
        self.operations.add(operation_id)
        return operation_id

    # --- the kill -----------------------------------------------------------------------------------
    def at(self, point: str | None, drive: Callable[[], T]) -> T:
        """`drive()` on a serve that kills itself at `point`, then serve restarted without it.

        With no point, just `drive()` on the serve that runs.
        """
        if point is None:
            return drive()
        self.s.stop()
        self.s.start(crash_at=point)
        result = drive()
        code = self.s.wait_exit(90)
        assert code == -signal.SIGKILL, f"serve did not die at {point} (exit {code}):\n{self.s.log_text()}"
        self.s.start()
        self.points.append(point)
        return result

    # --- the end state ------------------------------------------------------------------------------
    def problems(self, operation_id: int) -> list[str]:
        """Everything about a finished operation that is not "done exactly once, and everyone agrees"."""
        op = self.operation(operation_id)
        env, tag, kind = op["env"], op["target_tag"], op["kind"]
        branch = self.branches[env]
        found: list[str] = []
        if op["state"] != "succeeded":
            found.append(f"operation {operation_id} ended {op['state']}: {op['message']}")
        twins = [o["id"] for o in self._ops(env) if (o["kind"], o["target_tag"]) == (kind, tag)]
        if kind != "rollback" and twins != [operation_id]:
            found.append(f"operations for {kind} {tag} into {env}: {twins}")
        if kind != "deploy":
            commits = self.git_log(branch, operation_id, app=True)
            if len(commits) != 1:
                found.append(f"{len(commits)} commits on {branch} carry operation {operation_id}")
            elif kind == "promote" and self.s.git("rev-parse", f"refs/tags/{tag}^{{commit}}") != commits[0]:
                found.append(f"tag {tag} is not on the promotion commit {commits[0][:7]}")
            if self.s.git("branch", "--list", "promobot/*"):
                found.append("a promotion branch was left behind")
        pins = self.git_log(GITOPS_BRANCH, operation_id, app=False)
        if len(pins) != 1:
            found.append(f"{len(pins)} GitOps pin commits carry operation {operation_id}")
        image = self.registry.get("web", tag)
        pinned = kustomize.read_pin(self.gitops_file(env), "web")
        if image is None or pinned is None or pinned.digest != image.digest or pinned.tag != tag:
            found.append(f"GitOps pins {pinned} in {env}; the registry has {tag} at {image and image.digest}")
        records = [
            d for d in self.call("GET", f"/api/history/web/{env}?limit=200") if d["operation_id"] == operation_id
        ]
        if (
            len(records) != 1
            or records[0]["state"] != "healthy"
            or image is None
            or records[0]["digest"] != image.digest
        ):
            found.append(f"deployment records of operation {operation_id}: {records}")
        row = self.row(env)
        if (row["artifact"], row["state"]) != (f"web:{tag}", "healthy") or not serves(
            row["url"], row["source_revision"]
        ):
            found.append(f"list shows {row}")
        return found

    def chat_problems(self, operation_id: int) -> list[str]:
        """Everything about the operation's Slack message that is not "posted once, saying it succeeded".

        Updates of the message are fine (that is how it follows the operation); a second top-level post is not.
        """
        assert self.slack is not None, "the Crasher was made without a fake Slack"
        mark = f"(operation #{operation_id},"
        posts = [m for m in self.slack.top_level() if mark in m["text"]]
        if len(posts) != 1:
            return [f"{len(posts)} top-level Slack messages for operation {operation_id}: {[m['ts'] for m in posts]}"]
        text = self.slack.latest_text(posts[0]["ts"])
        if not text.startswith("[succeeded]"):
            return [f"the Slack message of operation {operation_id} says {text!r}"]
        return []

    def git_log(self, branch: str, operation_id: int, *, app: bool) -> list[str]:
        grep = f"--grep=^Promobot-Operation: {operation_id}$"
        args = ("log", "--first-parent", "--format=%H", grep, f"refs/heads/{branch}")
        if app:
            return self.s.git(*args).split()
        return self.s.git("--git-dir", str(self.s.root / "git" / "gitops.git"), *args, cwd=self.s.root).split()

    def gitops_file(self, env: str) -> str:
        gitops = str(self.s.root / "git" / "gitops.git")
        return self.s.git("--git-dir", gitops, "show", f"{GITOPS_BRANCH}:{env}/web/kustomization.yaml", cwd=self.s.root)


USERS = ("developer", "release-manager")


def environments(config: Path) -> dict[str, dict[str, Any]]:
    return {env["name"]: env for env in yaml.safe_load(config.read_text())["environments"]}
