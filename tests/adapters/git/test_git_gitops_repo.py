"""GitOpsGitRepo against a real bare remote: kustomize pins written without a working tree, read back."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from promobot.adapters import gitcli
from promobot.adapters.git.gitops_repo import GitOpsGitRepo
from promobot.domain import errors
from promobot.domain.deployments import Pin

if TYPE_CHECKING:
    from conftest import Scratch

ENVS = ("development", "qa", "prod")
APPS = {"web": "web", "api": "acme/api"}
DIGEST = "sha256:" + "ab" * 32


def make(bare: Path, mirror: Path) -> GitOpsGitRepo:
    return GitOpsGitRepo(str(bare), mirror, branch="main", envs=ENVS, apps=APPS)


@pytest.fixture
def gitops(bare: Path, tmp_path: Path) -> GitOpsGitRepo:
    return make(bare, tmp_path / "mirror" / "gitops.git")


def test_pins_written_to_an_empty_repository_read_back_and_land_as_kustomize_files(
    gitops: GitOpsGitRepo, scratch: Scratch
) -> None:
    assert gitops.head() is None
    assert gitops.read_pins() == {}

    first = gitops.write_pin("development", "web", Pin("web", "dev-1a2b3c4", DIGEST), message="Pin web")
    second = gitops.write_pin("qa", "api", Pin("acme/api", "qa-1a2b3c4", ""), message="Pin api")

    assert first is not None and second is not None
    assert gitops.head() == second == scratch.remote_head("refs/heads/main")
    assert gitops.read_pins() == {
        ("development", "web"): Pin("web", "dev-1a2b3c4", DIGEST),
        ("qa", "api"): Pin("acme/api", "qa-1a2b3c4", ""),
    }
    assert yaml.safe_load(scratch.show("main:development/web/kustomization.yaml")) == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [],
        "images": [{"name": "web", "newTag": "dev-1a2b3c4", "digest": DIGEST}],
    }
    history = gitcli.out(["log", "--format=%P %s", "main"], git_dir=scratch.bare).splitlines()
    assert history == [f"{first} Pin api", " Pin web"]


def test_write_pin_is_a_no_op_when_the_file_already_pins_exactly_that(gitops: GitOpsGitRepo) -> None:
    pin = Pin("web", "dev-1a2b3c4", DIGEST)
    head = gitops.write_pin("development", "web", pin, message="Pin web")

    assert gitops.write_pin("development", "web", pin, message="Pin web again") is None
    assert gitops.head() == head
    assert gitops.write_pin("development", "web", Pin("web", "dev-1a2b3c4", ""), message="x") is not None


def test_write_pin_keeps_every_other_key_and_image_of_an_existing_file(gitops: GitOpsGitRepo, scratch: Scratch) -> None:
    original = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "web-prod",
        "resources": ["deployment.yaml", "service.yaml"],
        "images": [
            {"name": "redis", "newTag": "7"},
            {
                "name": "web",
                "newName": "registry.local/web",
                "newTag": "old",
                "digest": "sha256:" + "00" * 32,
            },
        ],
        "commonLabels": {"team": "shop"},
    }
    scratch.commit("main", {"prod/web/kustomization.yaml": yaml.safe_dump(original), "README": "hands off"})

    gitops.write_pin("prod", "web", Pin("web", "prod-1a2b3c4", DIGEST), message="Pin web")

    written = yaml.safe_load(scratch.show("main:prod/web/kustomization.yaml"))
    assert written == {
        **original,
        "images": [
            {"name": "redis", "newTag": "7"},
            {"name": "web", "newName": "registry.local/web", "newTag": "prod-1a2b3c4", "digest": DIGEST},
        ],
    }
    assert scratch.show("main:README") == "hands off"


def test_two_replicas_writing_different_pins_at_once_both_land(bare: Path, tmp_path: Path) -> None:
    replicas = [make(bare, tmp_path / f"mirror-{n}" / "gitops.git") for n in range(2)]
    replicas[0].write_pin("prod", "web", Pin("web", "prod-0", ""), message="seed")  # the branch exists
    jobs = [(replicas[n % 2], env, app) for n, (env, app) in enumerate((e, a) for e in ENVS for a in APPS)]
    failures: list[BaseException] = []

    def write(replica: GitOpsGitRepo, env: str, app: str) -> None:
        try:
            replica.write_pin(env, app, Pin(APPS[app], f"{env}-{app}", DIGEST), message=f"Pin {app} in {env}")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert replicas[1].read_pins() == {(env, app): Pin(APPS[app], f"{env}-{app}", DIGEST) for _, env, app in jobs}


def test_pins_for_unknown_environments_apps_or_images_are_refused(gitops: GitOpsGitRepo) -> None:
    with pytest.raises(errors.UnknownEnvironment):
        gitops.write_pin("staging", "web", Pin("web", "t", ""), message="x")
    with pytest.raises(errors.UnknownApp):
        gitops.write_pin("qa", "db", Pin("db", "t", ""), message="x")
    with pytest.raises(errors.InvalidReference):
        gitops.write_pin("qa", "web", Pin("other", "t", ""), message="x")
    assert gitops.head() is None


def test_pins_read_again_show_what_another_replica_pinned_since_and_a_caller_cannot_spoil_them(
    bare: Path, tmp_path: Path
) -> None:
    reader, writer = make(bare, tmp_path / "reader.git"), make(bare, tmp_path / "writer.git")
    writer.write_pin("qa", "web", Pin("web", "qa-1", DIGEST), message="Pin web")
    first = reader.read_pins()
    first.clear()  # the reader keeps what it read at this head: a caller's changes must not reach it
    assert reader.read_pins() == {("qa", "web"): Pin("web", "qa-1", DIGEST)}

    writer.write_pin("qa", "web", Pin("web", "qa-2", DIGEST), message="Pin web again")
    writer.write_pin("prod", "api", Pin("acme/api", "prod-1", ""), message="Pin api")
    assert reader.read_pins() == {
        ("qa", "web"): Pin("web", "qa-2", DIGEST),
        ("prod", "api"): Pin("acme/api", "prod-1", ""),
    }
