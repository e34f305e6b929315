"""The whole story with the production integrations: promote -> pull request -> approve -> merge -> build -> deploy.

promobot is built by the bootstrap from a config naming GitHub (the contract fake, backed by the real bare
repository), a real Distribution registry and Argo CD (the contract fake), with no builder: nothing
embedded. The test plays the other side of each: CI pushes `<prefix>-<source sha7>` images when a branch
moves (the registry notifies promobot by itself), a release manager reviews on GitHub (the signed webhook
is delivered), Argo CD syncs and sends its notification.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.fake_argocd import FakeArgoCD
from support.fake_github import FakeGitHub, review_payload, webhook
from support.loopback_http import serve
from support.registry_server import RegistryServer, registry_binary
from support.running import until
from support.story_world import ArgoCDWorld, World, repositories

__all__ = ["registry_binary"]
pytestmark = pytest.mark.slow

SECRETS = {"github": "ghp_e2e", "github-hook": "gh-hook-secret", "argocd": "argo-token"}
REPO = "acme/web"


class GitHubWorld(ArgoCDWorld):
    github: FakeGitHub

    def github_review(self, user: str, state: str) -> httpx.Response:
        """`user` reviews pull request #1 on GitHub and the signed review webhook reaches promobot."""
        review = self.github.review(REPO, 1, user, state)
        payload = review_payload(self.github, REPO, 1, review)
        headers, body = webhook(self.tokens["github-hook"], "pull_request_review", payload)
        return httpx.post(self.url + "/webhooks/github", content=body, headers=headers, timeout=30)


@pytest.fixture
def world(registry_binary: str, tmp_path: Path) -> Iterator[GitHubWorld]:
    repositories(tmp_path)
    github = FakeGitHub(token=SECRETS["github"], repos=(REPO,), git_dirs={REPO: tmp_path / "git" / "web.git"})
    registry = RegistryServer(registry_binary, tmp_path / "registry")
    with serve(github), FakeArgoCD(tokens={SECRETS["argocd"]: {"default"}}) as argo:
        for env in ("qa", "prod"):
            argo.add(f"web-{env}", health="Missing", sync="OutOfSync", phase="")
        token = World.token
        forge = {"kind": "github", "api_url": github.base_url, "token": token("github"),
                 "webhook_secret": token("github-hook"), "merge": "auto", "repositories": {"web": REPO}}  # fmt: skip
        engine = {"kind": "argocd", "url": argo.url, "token": token("argocd"), "project": "default"}
        made = GitHubWorld(tmp_path, registry, secrets=SECRETS, forge=forge, engine=engine,
                           release_manager_login="rita-gh")  # fmt: skip
        made.github, made.argo = github, argo
        with made:
            yield made


def test_a_promotion_goes_through_a_github_pull_request_a_real_registry_and_argo_cd(world: GitHubWorld) -> None:
    w = world
    # A push to qa: CI builds it, the registry tells promobot, qa auto-deploys: pinned, synced, reported.
    change = w.push("Version 2", {"VERSION": "2\n"}, "qa")
    qa_digest = w.built_and_pinned("qa", change, change)
    until(lambda: "web-qa" in w.argo.syncs, 10, "promobot to ask Argo CD for a sync (auto-sync is off)")
    assert w.argo_deploys("qa", qa_digest, urls=["https://qa.web.example.com"]).status_code == 202
    qa = until(lambda: (r := w.row("qa"))["state"] == "healthy" and r, 20, "qa to be healthy")
    assert qa["artifact"] == f"web:qa-{change[:7]}" and qa["url"] == "https://qa.web.example.com"

    # Promote to prod: a pull request on GitHub, waiting for the release manager.
    op = w.api("POST", "/api/promote", body={"artifact": f"web:qa-{change[:7]}", "env": "prod"})
    waiting = until(
        lambda: (o := w.operation(op["id"]))["state"] == "awaiting_approval" and o, 20, "the pull request to open"
    )
    assert waiting["pr_url"] == "https://github.com/acme/web/pull/1" and "pull request #1" in waiting["message"]
    pull = w.github.pulls[REPO][1]
    assert (pull.base, pull.state) == ("prod", "open")
    head = pull.head_sha

    # The release manager approves on GitHub; the signed review webhook moves it on, and promobot merges.
    answer = w.github_review("rita-gh", "APPROVED")
    assert answer.status_code == 202 and answer.json()["accepted"] is True, answer.text
    until(lambda: w.github.merges, 30, "promobot to merge the pull request")
    assert w.github.merges[0]["sha"] == head  # merged only if the head is still the promotion commit
    merged = w.app_git("rev-parse", "prod")
    assert w.app_git("rev-parse", "prod^2") == head
    assert w.app_git("rev-parse", "prod^{tree}") == w.app_git("rev-parse", f"{change}^{{tree}}")
    tag = f"prod-{change[:7]}"
    until(lambda: w.app_git("tag", "--list", tag) == tag, 20, "the prod tag to be pushed")
    assert w.app_git("rev-parse", f"{tag}^{{commit}}") == merged

    # CI builds the merge; promobot pins it; Argo CD deploys it and says so.
    prod_digest = w.built_and_pinned("prod", merged, change)
    assert w.argo_deploys("prod", prod_digest, urls=["https://prod.web.example.com"]).status_code == 202
    done = until(lambda: (o := w.operation(op["id"]))["state"] == "succeeded" and o, 20, "the promotion to finish")
    assert f"web:prod-{change[:7]} is healthy in prod" in done["message"]
    prod = w.row("prod")
    assert (prod["artifact"], prod["state"], prod["source_revision"]) == (f"web:prod-{change[:7]}", "healthy", change)
    assert prod["url"] == "https://prod.web.example.com"
