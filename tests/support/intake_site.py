"""The web app with every intake configured and known secrets, for the hostile-input suites.

`IntakeSite("github")` runs GitHub (the contract fake) with Argo CD and Slack (the fake Slack);
`IntakeSite("gitlab")` runs GitLab (the contract fake) with Flux and Slack. Both take the sandbox's own
intake (`/webhooks/git|artifacts|engine|registry`, the webhook token). Every secret is a known value from
SECRETS, so a test can search what promobot said for it. `state()` is everything a request could change:
row counts of every table, the audit log's outcomes, every ref of every git repository, and what reached the fake Slack.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from promobot.adapters.chat.slack import bot as slack_bot
from promobot.domain.deployments import Pin
from promobot.domain.operations import Kind, Operation, State, Step
from support.fake_github import FakeGitHub
from support.fake_gitlab import FakeGitLab
from support.fake_slack import FakeSlack
from support.loopback_http import serve
from support.webapp import Web

Forge = Literal["github", "gitlab"]
SECRETS = {
    "slack-signing": "slack-signing-secret-5b9e0c7d1f",
    "slack-bot": "xoxb-0000-hostile-bot-token-7c1d",
    "forge-token": "forge-api-token-9f3a61be",
    "forge-hook": "forge-webhook-secret-2e8b44",
    "argocd": "argocd-api-token-a41f6d09",
    "flux": "flux-hmac-key-93c2d5e7",
    "registry": "registry-password-d17e0c2a",
}
SLACK_USERS = {"developer": "U0DEV", "release-manager": "U0RM"}
TABLES = (
    "operations", "operation_events", "artifacts", "deployments", "current_deployments", "holds", "approvals",
    "deliveries", "locks", "audit",
)  # fmt: skip


def _token(name: str) -> dict[str, str]:
    return {"file": f"tokens/{name}.token"}


class IntakeSite(Web):
    def __init__(self, root: Path, forge: Forge, *, api_url: str = "", registry_url: str = "") -> None:
        """`api_url`: where the forge and Argo CD API calls go (default: a contract fake of the forge and an
        address nobody answers for Argo CD); `registry_url`: a Distribution registry with a password."""
        self.forge_kind = forge
        self._fakes = contextlib.ExitStack()
        self.slack = FakeSlack().start()
        self._fakes.callback(self.slack.stop)
        self.fake: FakeGitHub | FakeGitLab = (
            FakeGitHub(token=SECRETS["forge-token"], repos=("acme/web", "acme/api"))
            if forge == "github"
            else FakeGitLab(token=SECRETS["forge-token"], projects=("acme/web", "acme/api"))
        )
        self._fakes.enter_context(serve(self.fake))
        forge_api = api_url or (self.fake.base_url if forge == "github" else self.fake.base_url + "/api/v4")

        def configure(settings: dict[str, Any], root: Path) -> None:
            for name, value in SECRETS.items():
                (root / "tokens" / f"{name}.token").write_text(value + "\n")
            settings["forge"] = {
                "kind": forge, "api_url": forge_api, "token": _token("forge-token"),
                "webhook_secret": _token("forge-hook"), "repositories": {"web": "acme/web", "api": "acme/api"},
            }  # fmt: skip
            settings["engine"] = (
                {"kind": "argocd", "url": api_url or "http://127.0.0.1:9", "token": _token("argocd")}
                if forge == "github"
                else {"kind": "flux", "webhook_secret": _token("flux")}
            )
            settings["builder"] = {"kind": "none"}
            if registry_url:
                settings["registry"] = {
                    "kind": "distribution", "url": registry_url, "username": "promobot",
                    "password": _token("registry"), "retries": 0,
                }  # fmt: skip
            settings["slack"] = {
                "signing_secret": _token("slack-signing"), "bot_token": _token("slack-bot"),
                "channels": {"default": "#deploys", "envs": {"prod": "#prod"}}, "api_url": self.slack.base_url,
            }  # fmt: skip
            for user in settings["users"]:
                user["slack_id"] = SLACK_USERS[user["name"]]

        try:
            super().__init__(root, configure=configure)
        except BaseException:
            self._fakes.close()
            raise
        self.webhook_token = self.loaded.settings.server.webhook_token.read(self.loaded.base)
        # A pin for web in qa, so an engine's report about it has something to be about.
        pin = Pin(image="web", tag="qa-1a2b3c4", digest="sha256:" + "d" * 64)
        self.application.ctx.gitops.write_pin("qa", "web", pin, message="Pin web in qa")

    def waiting(self, number: int) -> Operation:
        """A promotion of web to prod waiting for the approval of pull request `number`."""
        with self.application.ctx.store.unit_of_work() as uow:
            found = uow.operations.add(
                Operation(
                    kind=Kind.PROMOTE, app="web", env="prod", artifact="web:qa-aaaaaaa", requested_by="developer",
                    source_revision="a" * 40, target_tag="prod-aaaaaaa", state=State.AWAITING_APPROVAL,
                    step=Step.PR_OPEN, message="waiting", pr_number=number, pr_url=f"https://forge/pull/{number}",
                )
            )  # fmt: skip
            uow.commit()
        return found

    def gitops_head(self) -> str:
        return _git(self.root / "git" / "gitops.git", "rev-parse", "main").strip()

    @property
    def bot(self) -> slack_bot.SlackBot:
        found = self.application.slack
        assert isinstance(found, slack_bot.SlackBot)
        return found

    def close(self) -> None:
        self.bot.stop()  # let queued chat work finish before the fakes go away
        super().close()
        self._fakes.close()

    def secrets(self) -> dict[str, str]:
        """Every secret this site knows: the integrations', the webhook token and each user's API token."""
        return {**SECRETS, "webhook": self.webhook_token, **{f"api token of {u}": t for u, t in self.tokens.items()}}

    def settle(self) -> None:
        """Wait until chat work already queued (after Slack's acks) is done."""
        # Once every worker thread is inside one of these, all work queued before them has finished.
        workers = self.bot._pool._max_workers
        barrier = threading.Barrier(workers + 1, timeout=30)
        for _ in range(workers):
            self.bot._pool.submit(barrier.wait)
        barrier.wait()

    def state(self) -> dict[str, Any]:
        """Everything a refused request must leave as it was."""
        self.settle()
        engine: sa.Engine = self.application.ctx.store.engine  # type: ignore[attr-defined]
        with engine.connect() as db:
            rows = {table: db.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() for table in TABLES}
            audit = _audit_outcomes(db)
        refs = {
            repo.name: _git(repo, "for-each-ref", "--format=%(objectname) %(refname)")
            for repo in sorted((self.root / "git").glob("*.git"))
        }
        return {"rows": rows, "audit": audit, "refs": refs, "slack": len(self.slack.calls)}


def _audit_outcomes(db: sa.Connection) -> list[str]:
    return list(db.execute(sa.text("SELECT outcome FROM audit ORDER BY id")).scalars())


def _git(bare: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(bare), *args], capture_output=True, text=True, check=True).stdout
