"""The web app on a real sandbox, in process: the REST API and dashboard through TestClient, state seeded
straight into the real store (no worker runs, so operations stay where they are put)."""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi.testclient import TestClient

from promobot import bootstrap, config
from promobot.domain.artifacts import Artifact
from promobot.domain.deployments import Deployment, Health
from promobot.domain.operations import Kind, Operation, State, Step
from promobot.sandbox import create
from promobot.web.app import create_app

ENVS = ["development", "qa", "prod"]
PREFIX = {"development": "dev", "qa": "qa", "prod": "prod"}


class Web:
    """`configure(settings, root)`, when given, edits the sandbox's config (a dict) before it is loaded."""

    def __init__(
        self,
        root: Path,
        apps: tuple[str, ...] = ("web", "api"),
        configure: Callable[[dict[str, Any], Path], None] | None = None,
    ) -> None:
        made = create.sandbox(root, apps=list(apps), envs=ENVS, port=1)
        self.root = made.root
        if configure is not None:
            settings = yaml.safe_load(made.config.read_text())
            configure(settings, made.root)
            made.config.write_text(yaml.safe_dump(settings, sort_keys=False))
        self.loaded = config.load(str(made.config))
        self.application = bootstrap.build(self.loaded, background=False)
        self.application.ctx.store.migrate()
        self.app = create_app(self.application, manage_lifecycle=False)
        self.http = TestClient(self.app, raise_server_exceptions=False)
        self.tokens = {u.name: u.token.read(self.loaded.base) for u in self.loaded.settings.users}

    def close(self) -> None:
        self.http.close()
        self.application.ctx.store.dispose()  # type: ignore[attr-defined]

    # --- the API --------------------------------------------------------------------------------------
    def auth(self, user: str = "developer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str = "developer", **kwargs: Any) -> httpx.Response:
        return self.http.get(path, headers=self.auth(user), **kwargs)

    def post(self, path: str, body: Any = None, user: str = "developer") -> httpx.Response:
        return self.http.post(path, json=body, headers=self.auth(user))

    # --- the dashboard ----------------------------------------------------------------------------------
    def sign_in(self, user: str = "developer") -> str:
        """Sign in through the form; returns the CSRF token of the new session."""
        page = self.http.get("/signin")
        answer = self.http.post(
            "/signin", data={"token": self.tokens[user], "csrf": csrf_of(page.text)}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        return csrf_of(self.http.get("/").text)

    # --- state, seeded into the real store ----------------------------------------------------------------
    def source(self, app: str = "web", branch: str = "develop") -> str:
        bare = self.root / "git" / f"{app}.git"
        done = subprocess.run(
            ["git", "--git-dir", str(bare), "rev-parse", branch], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def deployed(
        self, app: str, env: str, source: str, state: Health = Health.HEALTHY, by: str = "developer"
    ) -> Deployment:
        tag = f"{PREFIX[env]}-{source[:7]}"
        digest = self.image(app, source)
        with self.application.ctx.store.unit_of_work() as uow:
            uow.artifacts.add(Artifact(app=app, tag=tag, digest=digest, source_revision=source, revision=source))
            found = uow.deployments.add(
                Deployment(
                    app=app, env=env, tag=tag, digest=digest, source_revision=source, revision=source,
                    state=state, deployed_by=by, url=f"http://127.0.0.1:9/{app}/{env}",
                )
            )
            uow.commit()
        return found

    def image(self, app: str, source: str) -> str:
        """Put a blob standing for the image of `source` into the embedded registry; returns its digest."""
        data = f"image of {app} at {source}".encode()
        hexdigest = hashlib.sha256(data).hexdigest()
        blob = self.root / "registry" / app / "blobs" / "sha256" / hexdigest
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        return f"sha256:{hexdigest}"

    def operation(
        self,
        app: str = "web",
        env: str = "prod",
        state: State = State.AWAITING_APPROVAL,
        by: str = "developer",
        artifact: str = "web:qa-aaaaaaa",
    ) -> Operation:
        step = Step.PR_OPEN if state is State.AWAITING_APPROVAL else Step.REQUESTED
        pr = None
        if step is Step.PR_OPEN:  # a real pull request in the embedded forge, as the worker would open
            pr = self.application.ctx.forge.open_pull_request(
                app=app, branch=f"promobot/{env}-{len(self.tokens)}", base=env, head_sha=self.source(app),
                title=f"Promote {artifact} to {env}", body="",
            )
        with self.application.ctx.store.unit_of_work() as uow:
            found = uow.operations.add(
                Operation(
                    kind=Kind.PROMOTE, app=app, env=env, artifact=artifact, requested_by=by,
                    source_revision="a" * 40, target_tag=f"{PREFIX[env]}-aaaaaaa", state=state, step=step,
                    message=f"{by} asked to promote {artifact} to {env}", pr_number=pr.number if pr else None,
                    pr_url=pr.url if pr else "",
                )
            )
            uow.commit()
        return found


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html) or re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)
