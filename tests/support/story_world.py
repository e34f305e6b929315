"""The world of an end-to-end story with the production integrations, for a forge and an engine the test picks.

Real bare git repositories (an app `web` with `qa` and `prod` at one first commit, an empty GitOps
repository), a real Distribution registry that notifies promobot, and promobot itself built by the
bootstrap from a config and served by uvicorn on loopback. The test plays CI (`ci_builds`,
`built_and_pinned`), people and the engine; the forge and engine sections of the config are the test's
own. `ArgoCDWorld` adds Argo CD's side (the contract fake syncing a pin and sending promobot's
notification) for the stories that use it.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import httpx
import uvicorn
import yaml

from promobot import bootstrap, config
from promobot.web.app import create_app
from support.fake_argocd import FakeArgoCD
from support.registry_server import RegistryServer, push_image
from support.running import free_port, until

REVISION, SOURCE = "org.opencontainers.image.revision", "io.promobot.source-revision"
PEOPLE = {"developer": "dev-token", "release-manager": "rm-token", "webhook": "hook-token"}


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def repositories(root: Path) -> Path:
    """A bare app repository with qa and prod at one first commit, a GitOps repository; a work clone."""
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


class World:
    """promobot served on loopback over the repositories and the registry, with the given integrations."""

    def __init__(
        self,
        root: Path,
        registry: RegistryServer,
        *,
        secrets: dict[str, str],
        forge: dict[str, Any],
        engine: dict[str, Any],
        release_manager_login: str,
    ) -> None:
        self.root, self.registry = root, registry
        self.tokens = {**PEOPLE, **secrets}
        self.app_repo, self.gitops = root / "git" / "web.git", root / "git" / "gitops.git"
        self.work = root / "work"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder = root / "tokens"
        folder.mkdir(parents=True, exist_ok=True)
        for name, value in self.tokens.items():
            (folder / f"{name}.token").write_text(value)
        settings = self._settings(forge, engine, release_manager_login)
        (root / "promobot.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
        self.application = bootstrap.build(config.load(str(root / "promobot.yaml")))
        server = uvicorn.Config(create_app(self.application), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(server)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @staticmethod
    def token(name: str) -> dict[str, str]:
        """The config's token source for the secret `name` (a file the world wrote)."""
        return {"file": f"tokens/{name}.token"}

    def _settings(self, forge: dict[str, Any], engine: dict[str, Any], login: str) -> dict[str, Any]:
        token = self.token
        return {
            "environments": [
                {"name": "qa", "branch": "qa", "tag_prefix": "qa", "auto_deploy": True, "promoters": ["developer"]},
                {"name": "prod", "branch": "prod", "tag_prefix": "prod", "promoters": ["developer"],
                 "approval": {"rule": "pull_request", "approvals": 1, "approvers": ["release-manager"]}},
            ],
            "apps": [{"name": "web", "repository": "git/web.git", "image": "web"}],
            "gitops": {"repository": "git/gitops.git", "branch": "main"},
            "registry": {"kind": "distribution", "url": self.registry.url, "retries": 1},
            "engine": engine,
            "builder": {"kind": "none"},
            "forge": forge,
            "database": "sqlite:///promobot.db",
            "server": {"host": "127.0.0.1", "port": self.port, "webhook_token": token("webhook")},
            "users": [
                {"name": "developer", "roles": ["developer"], "token": token("developer")},
                {"name": "release-manager", "roles": ["release-manager"], "token": token("release-manager"),
                 "forge_login": login},
            ],
        }  # fmt: skip

    def start(self) -> None:
        notify = {
            "name": "promobot", "url": f"{self.url}/webhooks/registry", "timeout": "2s", "threshold": 5,
            "backoff": "200ms", "headers": {"Authorization": [f"Bearer {self.tokens['webhook']}"]},
        }  # fmt: skip
        self.registry.start(notify=notify)
        self.thread.start()
        until(lambda: self.server.started, 15, "promobot to serve")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.application.ctx.store.dispose()  # type: ignore[attr-defined]
        self.registry.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- people and machines ----------------------------------------------------------------------------
    def api(self, method: str, path: str, user: str = "developer", body: Any = None) -> Any:
        answer = httpx.request(
            method, self.url + path, json=body, headers={"Authorization": f"Bearer {self.tokens[user]}"}, timeout=30
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

    def built_and_pinned(self, env: str, revision: str, source: str) -> str:
        """CI builds `revision` for `env` and promobot pins the image in the GitOps repository; its digest."""
        digest = self.ci_builds(env, revision, source)
        until(lambda: self.pinned(env) == digest, 30, f"the {env} build to be pinned in the GitOps repository")
        return digest

    def pinned(self, env: str) -> str:
        """The digest the GitOps repository pins for web in `env` ("" when none)."""
        try:
            text = git("--git-dir", str(self.gitops), "show", f"main:{env}/web/kustomization.yaml")
        except subprocess.CalledProcessError:
            return ""
        images = (yaml.safe_load(text) or {}).get("images") or [{}]
        return str(images[0].get("digest", ""))

    def gitops_head(self) -> str:
        return git("--git-dir", str(self.gitops), "rev-parse", "main")

    def app_git(self, *args: str) -> str:
        return git("--git-dir", str(self.app_repo), *args)


class ArgoCDWorld(World):
    """A world whose engine is Argo CD (the contract fake the test serves and sets as `argo`)."""

    argo: FakeArgoCD

    def argo_deploys(self, env: str, digest: str, *, urls: Sequence[str] = ()) -> httpx.Response:
        """Argo CD syncs the pin and its notification (promobot's template) reaches /webhooks/argocd."""
        name = f"web-{env}"
        host = self.registry.url.removeprefix("http://")
        with self.argo.lock:
            app = self.argo.apps[name]
            app.images, app.health, app.sync, app.phase = [f"{host}/web@{digest}"], "Healthy", "Synced", "Succeeded"
            app.urls = list(urls)
            status = app.to_json()["status"]
        body = {
            "promobot": 1, "trigger": "on-deployed", "delivery": f"{name}/on-deployed/{digest[7:19]}",
            "application": name, "namespace": "argocd", "project": "default", "env": env, "app": "web",
            "health": status["health"]["status"], "healthMessage": "", "sync": status["sync"]["status"],
            "revision": self.gitops_head(), "phase": status["operationState"]["phase"], "operationMessage": "",
            "images": status["summary"]["images"], "urls": status["summary"]["externalURLs"],
        }  # fmt: skip
        headers = {"Authorization": f"Bearer {self.tokens['webhook']}", "Content-Type": "application/json"}
        return httpx.post(self.url + "/webhooks/argocd", content=json.dumps(body), headers=headers, timeout=30)
