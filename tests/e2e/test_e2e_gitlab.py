"""The whole story with GitLab as the forge: promote -> merge request -> approve -> merge -> build -> deploy.

promobot is built by the bootstrap from a config naming GitLab (the contract fake, backed by the real bare
repository), a real Distribution registry and Argo CD (the contract fake). The test plays CI, the release
manager approving on GitLab (the Merge Request Hook arrives with `X-Gitlab-Token`) and Argo CD.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.fake_argocd import FakeArgoCD
from support.fake_gitlab import FakeGitLab, merge_request_payload, webhook
from support.loopback_http import serve
from support.registry_server import RegistryServer, registry_binary
from support.running import until
from support.story_world import ArgoCDWorld, World, repositories

__all__ = ["registry_binary"]
pytestmark = pytest.mark.slow

SECRETS = {"gitlab": "glpat-e2e0token", "gitlab-hook": "gl-hook-secret", "argocd": "argo-token"}
PROJECT = "acme/web"


class GitLabWorld(ArgoCDWorld):
    gitlab: FakeGitLab

    def gitlab_hook(self, action: str, user: str) -> httpx.Response:
        payload = merge_request_payload(self.gitlab, PROJECT, 1, action, user=user)
        headers, body = webhook(self.tokens["gitlab-hook"], "Merge Request Hook", payload)
        return httpx.post(self.url + "/webhooks/gitlab", content=body, headers=headers, timeout=30)


@pytest.fixture
def world(registry_binary: str, tmp_path: Path) -> Iterator[GitLabWorld]:
    repositories(tmp_path)
    gitlab = FakeGitLab(token=SECRETS["gitlab"], projects=(PROJECT,), git_dirs={PROJECT: tmp_path / "git" / "web.git"})
    gitlab.approvals_required[PROJECT] = 1
    gitlab.eligible[PROJECT] = {"rita-gl"}
    registry = RegistryServer(registry_binary, tmp_path / "registry")
    with serve(gitlab), FakeArgoCD(tokens={SECRETS["argocd"]: {"default"}}) as argo:
        for env in ("qa", "prod"):
            argo.add(f"web-{env}", health="Missing", sync="OutOfSync", phase="", auto_sync=True)
        token = World.token
        forge = {"kind": "gitlab", "api_url": f"{gitlab.base_url}/api/v4", "token": token("gitlab"),
                 "webhook_secret": token("gitlab-hook"), "merge": "auto", "repositories": {"web": PROJECT}}  # fmt: skip
        engine = {"kind": "argocd", "url": argo.url, "token": token("argocd"), "project": "default"}
        made = GitLabWorld(tmp_path, registry, secrets=SECRETS, forge=forge, engine=engine,
                           release_manager_login="rita-gl")  # fmt: skip
        made.gitlab, made.argo = gitlab, argo
        with made:
            yield made


def test_a_promotion_goes_through_a_gitlab_merge_request_approved_by_the_release_manager(world: GitLabWorld) -> None:
    w = world
    # qa auto-deploys what CI built from a push.
    change = w.push("Version 2", {"VERSION": "2\n"}, "qa")
    qa_digest = w.built_and_pinned("qa", change, change)
    assert w.argo_deploys("qa", qa_digest).status_code == 202
    until(lambda: w.row("qa")["state"] == "healthy", 20, "qa to be healthy")

    # Promote to prod: a merge request on GitLab, waiting for the release manager.
    op = w.api("POST", "/api/promote", body={"artifact": f"web:qa-{change[:7]}", "env": "prod"})
    waiting = until(
        lambda: (o := w.operation(op["id"]))["state"] == "awaiting_approval" and o, 20, "the merge request to open"
    )
    assert waiting["pr_url"] == "https://gitlab.example.com/acme/web/-/merge_requests/1"
    mr = w.gitlab.mrs[PROJECT][1]
    assert (mr.base, mr.state) == ("prod", "opened") and mr.sha == w.app_git("rev-parse", mr.branch)
    head = mr.sha

    # The release manager approves on GitLab; the Merge Request Hook moves it on, and promobot merges.
    w.gitlab.approve(PROJECT, 1, "rita-gl")
    answer = w.gitlab_hook("approved", "rita-gl")
    assert answer.status_code == 202 and answer.json()["accepted"] is True, answer.text
    until(lambda: w.gitlab.merges, 30, "promobot to accept the merge request")
    assert w.gitlab.merges[0]["sha"] == head  # accepted only if the head is still the promotion commit

    # The merge commit is real: the promotion commit's tree, its trailers, tagged.
    merged = w.app_git("rev-parse", "prod")
    assert w.app_git("rev-parse", "prod^2") == head
    assert w.app_git("rev-parse", "prod^{tree}") == w.app_git("rev-parse", f"{change}^{{tree}}")
    assert f"Promobot-Operation: {op['id']}" in w.app_git("log", "-1", "--format=%B", "prod")
    tag = f"prod-{change[:7]}"
    until(lambda: w.app_git("tag", "--list", tag) == tag, 20, "the prod tag to be pushed")
    assert w.app_git("rev-parse", f"{tag}^{{commit}}") == merged

    # CI builds the merge; promobot pins it; Argo CD deploys it.
    prod_digest = w.built_and_pinned("prod", merged, change)
    assert w.argo_deploys("prod", prod_digest).status_code == 202
    done = until(lambda: (o := w.operation(op["id"]))["state"] == "succeeded" and o, 20, "the promotion to finish")
    assert f"web:prod-{change[:7]} is healthy in prod" in done["message"]
    prod = w.row("prod")
    assert (prod["artifact"], prod["state"], prod["source_revision"]) == (f"web:prod-{change[:7]}", "healthy", change)
