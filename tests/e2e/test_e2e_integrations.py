"""The whole story with the production integrations: promote -> pull request -> approve -> merge -> build -> deploy.

promobot is built by the bootstrap from a config naming GitHub (the contract fake, backed by the real bare
repository), a real Distribution registry and Argo CD (the contract fake), with no builder: nothing
embedded. The test plays the other side of each: CI pushes `<prefix>-<source sha7>` images when a branch
moves (the registry notifies promobot by itself), a release manager reviews on GitHub (the signed webhook
is delivered), Argo CD syncs and sends its notification.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml

from promobot import bootstrap, config
from promobot.web.app import create_app
from support.fake_argocd import FakeArgoCD
from support.fake_github import FakeGitHub, review_payload, webhook
from support.loopback_http import serve
from support.registry_server import RegistryServer, push_image, registry_binary
from support.running import free_port, until

__all__ = ["registry_binary"]
pytestmark = pytest.mark.slow

TOKENS = {"developer": "dev-token", "release-manager": "rm-token", "webhook": "hook-token", "github": "ghp_e2e",
          "github-hook": "gh-hook-secret", "argocd": "argo-token"}  # fmt: skip
REVISION, SOURCE = "org.opencontainers.image.revision", "io.promobot.source-revision"


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


class World:
    """The repositories, the fakes, the registry and promobot served on loopback."""

    def __init__(self, root: Path, registry: RegistryServer, github: FakeGitHub, argo: FakeArgoCD) -> None:
        self.root, self.registry, self.github, self.argo = root, registry, github, argo
        self.app_repo, self.gitops = root / "git" / "web.git", root / "git" / "gitops.git"
        self.work = root / "work"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        tokens = root / "tokens"
        tokens.mkdir(parents=True)
        for name, value in TOKENS.items():
            (tokens / f"{name}.token").write_text(value)
        (root / "promobot.yaml").write_text(yaml.safe_dump(self.settings(), sort_keys=False))
        self.application = bootstrap.build(config.load(str(root / "promobot.yaml")))
        server = uvicorn.Config(create_app(self.application), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(server)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def settings(self) -> dict[str, Any]:
        token = {name: {"file": f"tokens/{name}.token"} for name in TOKENS}
        return {
            "environments": [
                {"name": "qa", "branch": "qa", "tag_prefix": "qa", "auto_deploy": True, "promoters": ["developer"]},
                {"name": "prod", "branch": "prod", "tag_prefix": "prod", "promoters": ["developer"],
                 "approval": {"rule": "pull_request", "approvals": 1, "approvers": ["release-manager"]}},
            ],
            "apps": [{"name": "web", "repository": "git/web.git", "image": "web"}],
            "gitops": {"repository": "git/gitops.git", "branch": "main"},
            "registry": {"kind": "distribution", "url": self.registry.url, "retries": 1},
            "engine": {"kind": "argocd", "url": self.argo.url, "token": token["argocd"], "project": "default"},
            "builder": {"kind": "none"},
            "forge": {"kind": "github", "api_url": self.github.base_url, "token": token["github"],
                      "webhook_secret": token["github-hook"], "merge": "auto", "repositories": {"web": "acme/web"}},
            "database": "sqlite:///promobot.db",
            "server": {"host": "127.0.0.1", "port": self.port, "webhook_token": token["webhook"]},
            "users": [
                {"name": "developer", "roles": ["developer"], "token": token["developer"]},
                {"name": "release-manager", "roles": ["release-manager"], "token": token["release-manager"],
                 "forge_login": "rita-gh"},
            ],
        }  # fmt: skip

    def start(self) -> None:
        self.thread.start()
        until(lambda: self.server.started, 15, "promobot to serve")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.application.ctx.store.dispose()  # type: ignore[attr-defined]

    # --- people and machines ----------------------------------------------------------------------------
    def api(self, method: str, path: str, user: str = "developer", body: Any = None) -> Any:
        answer = httpx.request(
            method, self.url + path, json=body, headers={"Authorization": f"Bearer {TOKENS[user]}"}, timeout=30
        )
        assert answer.status_code < 300, answer.text
        return answer.json()

    def row(self, env: str) -> dict[str, Any]:
        return next(r for r in self.api("GET", "/api/list") if r["env"] == env)

    def operation(self, operation_id: int) -> dict[str, Any]:
        return dict(self.api("GET", f"/api/operations/{operation_id}"))

    def push(self, message: str, files: dict[str, str], branch: str) -> str:
        for name, text in files.items():
            (self.work / name).write_text(text)
        git("add", "-A", cwd=self.work)
        git("-c", "user.name=Dana", "-c", "user.email=dana@example.com", "commit", "-qm", message, cwd=self.work)
        git("push", "-q", "origin", f"HEAD:{branch}", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def ci_builds(self, prefix: str, revision: str, source: str) -> str:
        """CI on a branch move: push `<prefix>-<source sha7>` with the revision labels (the registry notifies)."""
        labels = {REVISION: revision, SOURCE: source}
        return push_image(self.registry.url, "web", f"{prefix}-{source[:7]}", labels, body=f"{prefix} {revision}")

    def pinned(self, env: str) -> str:
        """The digest the GitOps repository pins for web in `env` ("" when none)."""
        try:
            text = git("--git-dir", str(self.gitops), "show", f"main:{env}/web/kustomization.yaml")
        except subprocess.CalledProcessError:
            return ""
        images = (yaml.safe_load(text) or {}).get("images") or [{}]
        return str(images[0].get("digest", ""))

    def argo_deploys(self, env: str, digest: str) -> httpx.Response:
        """Argo CD syncs the pin and its notification (promobot's template) reaches /webhooks/argocd."""
        name = f"web-{env}"
        host = self.registry.url.removeprefix("http://")
        with self.argo.lock:
            app = self.argo.apps[name]
            app.images, app.health, app.sync, app.phase = [f"{host}/web@{digest}"], "Healthy", "Synced", "Succeeded"
            app.urls = [f"https://{env}.web.example.com"]
            status = app.to_json()["status"]
        body = {
            "promobot": 1, "trigger": "on-deployed", "delivery": f"{name}/on-deployed/{digest[7:19]}",
            "application": name, "namespace": "argocd", "project": "default", "env": env, "app": "web",
            "health": status["health"]["status"], "healthMessage": "", "sync": status["sync"]["status"],
            "revision": git("--git-dir", str(self.gitops), "rev-parse", "main"),
            "phase": status["operationState"]["phase"], "operationMessage": "",
            "images": status["summary"]["images"], "urls": status["summary"]["externalURLs"],
        }  # fmt: skip
        headers = {"Authorization": f"Bearer {TOKENS['webhook']}", "Content-Type": "application/json"}
        return httpx.post(self.url + "/webhooks/argocd", content=json.dumps(body), headers=headers, timeout=30)


def _repositories(root: Path) -> Path:
    """A bare app repository with qa and prod at one first commit, an empty GitOps repository; a work clone."""
    (root / "git").mkdir(parents=True)
    git("init", "-q", "--bare", "-b", "main", str(root / "git" / "web.git"))
    git("init", "-q", "--bare", "-b", "main", str(root / "git" / "gitops.git"))
    seed = root / "seed"
    git("init", "-q", "-b", "main", str(seed))
    (seed / "README.md").write_text("gitops\n")
    git("add", "-A", cwd=seed)
    git("-c", "user.name=Ops", "-c", "user.email=ops@example.com", "commit", "-qm", "Start", cwd=seed)
    git("push", "-q", str(root / "git" / "gitops.git"), "HEAD:main", cwd=seed)
    work = root / "work"
    git("clone", "-q", str(root / "git" / "web.git"), str(work))
    (work / "VERSION").write_text("1\n")
    git("add", "-A", cwd=work)
    git("-c", "user.name=Dana", "-c", "user.email=dana@example.com", "commit", "-qm", "Version 1", cwd=work)
    for branch in ("qa", "prod"):
        git("push", "-q", "origin", f"HEAD:{branch}", cwd=work)
    return work


@pytest.fixture
def world(registry_binary: str, tmp_path: Path) -> Iterator[World]:
    _repositories(tmp_path)
    bare = {"acme/web": tmp_path / "git" / "web.git"}
    github = FakeGitHub(token=TOKENS["github"], repos=("acme/web",), git_dirs=bare)
    registry = RegistryServer(registry_binary, tmp_path / "registry")
    with serve(github), FakeArgoCD(tokens={TOKENS["argocd"]: {"default"}}) as argo:
        for env in ("qa", "prod"):
            argo.add(f"web-{env}", health="Missing", sync="OutOfSync", phase="")
        made = World(tmp_path, registry, github, argo)
        notify = {
            "name": "promobot", "url": f"{made.url}/webhooks/registry", "timeout": "2s", "threshold": 5,
            "backoff": "200ms", "headers": {"Authorization": [f"Bearer {TOKENS['webhook']}"]},
        }  # fmt: skip
        registry.start(notify=notify)
        made.start()
        try:
            yield made
        finally:
            made.stop()
            registry.stop()


def test_a_promotion_goes_through_a_github_pull_request_a_real_registry_and_argo_cd(world: World) -> None:
    w = world
    # A push to qa: CI builds it, the registry tells promobot, qa auto-deploys: pinned, synced, reported.
    change = w.push("Version 2", {"VERSION": "2\n"}, "qa")
    qa_digest = w.ci_builds("qa", change, change)
    until(lambda: w.pinned("qa") == qa_digest, 30, "the qa build to be pinned in the GitOps repository")
    until(lambda: "web-qa" in w.argo.syncs, 10, "promobot to ask Argo CD for a sync (auto-sync is off)")
    assert w.argo_deploys("qa", qa_digest).status_code == 202
    qa = until(lambda: (r := w.row("qa"))["state"] == "healthy" and r, 20, "qa to be healthy")
    assert qa["artifact"] == f"web:qa-{change[:7]}" and qa["url"] == "https://qa.web.example.com"

    # Promote to prod: a pull request on GitHub, waiting for the release manager.
    op = w.api("POST", "/api/promote", body={"artifact": f"web:qa-{change[:7]}", "env": "prod"})
    waiting = until(
        lambda: (o := w.operation(op["id"]))["state"] == "awaiting_approval" and o, 20, "the pull request to open"
    )
    assert waiting["pr_url"] == "https://github.com/acme/web/pull/1" and "pull request #1" in waiting["message"]
    pull = w.github.pulls["acme/web"][1]
    assert (pull.base, pull.state) == ("prod", "open")
    head = pull.head_sha

    # The release manager approves on GitHub; the signed review webhook moves it on, and promobot merges.
    review = w.github.review("acme/web", 1, "rita-gh", "APPROVED")
    payload = review_payload(w.github, "acme/web", 1, review)
    headers, body = webhook(TOKENS["github-hook"], "pull_request_review", payload)
    answer = httpx.post(w.url + "/webhooks/github", content=body, headers=headers, timeout=30)
    assert answer.status_code == 202 and answer.json()["accepted"] is True, answer.text
    until(lambda: w.github.merges, 30, "promobot to merge the pull request")
    assert w.github.merges[0]["sha"] == head  # merged only if the head is still the promotion commit
    merged = git("--git-dir", str(w.app_repo), "rev-parse", "prod")
    assert git("--git-dir", str(w.app_repo), "rev-parse", "prod^2") == head
    assert git("--git-dir", str(w.app_repo), "rev-parse", "prod^{tree}") == git(
        "--git-dir", str(w.app_repo), "rev-parse", f"{change}^{{tree}}"
    )
    tag = f"prod-{change[:7]}"
    until(lambda: git("--git-dir", str(w.app_repo), "tag", "--list", tag) == tag, 20, "the prod tag to be pushed")
    assert git("--git-dir", str(w.app_repo), "rev-parse", f"{tag}^{{commit}}") == merged

    # CI builds the merge; promobot pins it; Argo CD deploys it and says so.
    prod_digest = w.ci_builds("prod", merged, change)
    until(lambda: w.pinned("prod") == prod_digest, 30, "the prod build to be pinned")
    assert w.argo_deploys("prod", prod_digest).status_code == 202
    done = until(lambda: (o := w.operation(op["id"]))["state"] == "succeeded" and o, 20, "the promotion to finish")
    assert f"web:prod-{change[:7]} is healthy in prod" in done["message"]
    prod = w.row("prod")
    assert (prod["artifact"], prod["state"], prod["source_revision"]) == (f"web:prod-{change[:7]}", "healthy", change)
    assert prod["url"] == "https://prod.web.example.com"
