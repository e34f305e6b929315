"""Benchmark 2, promotion overhead: the git work of one promotion by promobot vs. a plain git script.

The work: a commit on `qa` whose tree is exactly the source commit's, parents (qa head, source); a tag;
a push of both to a bare remote; then the GitOps pin rewritten, committed and pushed. promobot does it
through its own adapters (GitAppRepo + GitOpsGitRepo on warm mirrors, driven by service/promoting.py as
the worker does); the baseline is the shortest plain sequence of `git` commands a script would run on
its own warm mirrors of the same remotes. Runs alternate; medians and their ratio are reported.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import repos
from common import emit, git, median, ms, note, scratch, size, timed

from promobot.adapters.git.app_repo import GitAppRepo
from promobot.adapters.git.gitops_repo import GitOpsGitRepo
from promobot.domain.deployments import Pin
from promobot.domain.operations import Kind, Operation
from promobot.domain.pipeline import Environment
from promobot.service import promoting

QA = Environment(name="qa", branch="qa", tag_prefix="qa")
PIN_PATH = "qa/web/kustomization.yaml"


def digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


def pin_text(tag: str, dig: str) -> str:
    return (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\nimages:\n"
        f"- name: web\n  newTag: {tag}\n  digest: {dig}\n"
    )


def promobot_promotion(app: GitAppRepo, ops: GitOpsGitRepo, source: str, n: int) -> None:
    tag = f"qa-{source[:7]}"
    operation = Operation(
        kind=Kind.PROMOTE,
        app="web",
        env="qa",
        artifact=f"web:dev-{source[:7]}",
        requested_by="bench",
        source_revision=source,
        target_tag=tag,
        id=n,
    )
    promoting.direct(app, operation, QA)
    ops.write_pin(
        "qa",
        "web",
        Pin(image="web", tag=tag, digest=digest(n)),
        message=promoting.message(operation, f"Pin web:{tag} in qa"),
    )


def plain_promotion(app: Path, ops: Path, source: str, n: int) -> None:
    """The same plumbing as a shell script would run it on warm bare mirrors."""
    tag = f"qa-{source[:7]}"
    fetch = [
        "fetch",
        "--quiet",
        "--prune",
        "--no-tags",
        "origin",
        "+refs/heads/*:refs/heads/*",
        "+refs/tags/*:refs/tags/*",
    ]
    git(*fetch, git_dir=app)
    head = git("rev-parse", "--verify", "refs/heads/qa", git_dir=app)
    message = f"Promote web:dev-{source[:7]} to qa\n\nPromobot-Source: {source}\n".encode()
    commit = git("commit-tree", "-p", head, "-p", source, "-F", "-", f"{source}^{{tree}}", git_dir=app, input=message)
    git(
        "push",
        "--quiet",
        "--atomic",
        f"--force-with-lease=refs/heads/qa:{head}",
        "origin",
        f"{commit}:refs/heads/qa",
        f"{commit}:refs/tags/{tag}",
        git_dir=app,
    )
    git("update-ref", "refs/heads/qa", commit, git_dir=app)
    git(*fetch, git_dir=ops)
    ops_head = git("rev-parse", "--verify", "refs/heads/main", git_dir=ops)
    git("cat-file", "blob", f"{ops_head}:{PIN_PATH}", git_dir=ops)  # read the old pin (a script edits it)
    with tempfile.TemporaryDirectory(dir=ops) as tmp:
        index = str(Path(tmp) / "index")
        blob = git("hash-object", "-w", "--stdin", git_dir=ops, input=pin_text(tag, digest(n)).encode())
        tree = _tree_with(ops, ops_head, blob, index)
    pin_commit = git("commit-tree", "-p", ops_head, "-m", f"Pin web:{tag} in qa", tree, git_dir=ops)
    git(
        "push",
        "--quiet",
        f"--force-with-lease=refs/heads/main:{ops_head}",
        "origin",
        f"{pin_commit}:refs/heads/main",
        git_dir=ops,
    )
    git("update-ref", "refs/heads/main", pin_commit, git_dir=ops)


def _tree_with(ops: Path, head: str, blob: str, index: str) -> str:
    """The head's tree with the pin file replaced, through a scratch index (no working tree)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_INDEX_FILE=index, GIT_CONFIG_NOSYSTEM="1")
    base = ["git", "--git-dir", str(ops)]
    subprocess.run([*base, "read-tree", f"{head}^{{tree}}"], env=env, check=True)
    subprocess.run([*base, "update-index", "--add", "--cacheinfo", f"100644,{blob},{PIN_PATH}"], env=env, check=True)
    return subprocess.run([*base, "write-tree"], env=env, check=True, capture_output=True, text=True).stdout.strip()


def mirror(remote: Path, path: Path) -> Path:
    git("init", "--quiet", "--bare", str(path))
    git("remote", "add", "origin", str(remote), git_dir=path)
    git(
        "fetch",
        "--quiet",
        "--no-tags",
        "origin",
        "+refs/heads/*:refs/heads/*",
        "+refs/tags/*:refs/tags/*",
        git_dir=path,
    )
    return path


def main() -> None:
    runs = size(30, 3)
    with scratch("promotion") as root:
        shas = repos.history(root / "web.git", commits=2 * runs + 50, extra={"qa": 0})
        repos.gitops(root / "gitops.git", envs=["development", "qa"], apps=["web"])
        app = GitAppRepo(str(root / "web.git"), root / "mirrors" / "web.git")
        ops = GitOpsGitRepo(
            str(root / "gitops.git"),
            root / "mirrors" / "gitops.git",
            branch="main",
            envs=["development", "qa"],
            apps={"web": "web"},
        )
        plain_app = mirror(root / "web.git", root / "plain" / "web.git")
        plain_ops = mirror(root / "gitops.git", root / "plain" / "gitops.git")
        ours: list[float] = []
        theirs: list[float] = []
        source = iter(shas[1:])
        promobot_promotion(app, ops, next(source), 0)  # warm: the mirrors' first-use fetch
        plain_promotion(plain_app, plain_ops, next(source), 0)
        for n in range(1, runs + 1):
            ours.append(timed(lambda n=n: promobot_promotion(app, ops, next(source), n)))
            theirs.append(timed(lambda n=n: plain_promotion(plain_app, plain_ops, next(source), n)))
        tags = git("for-each-ref", "--format=%(refname)", "refs/tags", git_dir=root / "web.git").split()
        note("promotion_runs", f"{runs} alternating pairs after one warm-up each; {len(tags)} tags pushed")
        emit("promotion_promobot_median", ms(median(ours)), "ms")
        emit("promotion_plain_git_median", ms(median(theirs)), "ms")
        emit("promotion_ratio", median(ours) / median(theirs), "x")
        note("promotion_target", "ratio <= 1.5x")


if __name__ == "__main__":
    main()
