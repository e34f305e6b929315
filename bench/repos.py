"""Building benchmark git repositories fast: linear histories written by one `git fast-import`.

Each commit changes one of `files` files (round robin), so `diff` between distant commits touches many.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from common import git

EPOCH = 1_700_000_000


def history(
    bare: Path, *, commits: int, branch: str = "develop", files: int = 50, extra: dict[str, int] | None = None
) -> list[str]:
    """A bare repository whose `branch` has `commits` linear commits; returns their SHAs, oldest first.

    `extra` maps more branch names to the 0-based commit index they point at.
    """
    git("init", "--quiet", "--bare", f"--initial-branch={branch}", str(bare))
    stream = bytearray()
    for n in range(commits):
        path = f"src/d{n % files // 32:03d}/module_{n % files:04d}.py"  # small trees: cheap to rewrite
        content = f"VALUE = {n}\n".encode()
        message = f"Change {n}: touch module {n % files}\n".encode()
        stream += f"commit refs/heads/{branch}\nmark :{n + 1}\n".encode()
        stream += f"committer Dev <dev@example.test> {EPOCH + n} +0000\n".encode()
        stream += b"data %d\n%s" % (len(message), message)
        if n > 0:
            stream += f"from :{n}\n".encode()
        stream += f"M 100644 inline {path}\ndata {len(content)}\n".encode() + content + b"\n"
    for name, index in (extra or {}).items():
        stream += f"reset refs/heads/{name}\nfrom :{index + 1}\n\n".encode()
    marks = bare / "bench-marks"
    subprocess.run(
        ["git", "--git-dir", str(bare), "fast-import", "--quiet", f"--export-marks={marks}"],
        input=bytes(stream),
        check=True,
    )
    by_mark = dict(line.split() for line in marks.read_text().splitlines())
    marks.unlink()
    return [by_mark[f":{n + 1}"] for n in range(commits)]


def gitops(bare: Path, *, envs: list[str], apps: list[str]) -> None:
    """A bare GitOps repository on `main` with a kustomization per (env, app)."""
    git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    stream = bytearray(b"commit refs/heads/main\ncommitter Ops <ops@example.test> 1700000000 +0000\ndata 6\nStart\n")
    for env in envs:
        for app in apps:
            text = (
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\nimages:\n"
                f"- name: {app}\n  newTag: none\n"
            ).encode()
            stream += f"M 100644 inline {env}/{app}/kustomization.yaml\ndata {len(text)}\n".encode() + text + b"\n"
    subprocess.run(["git", "--git-dir", str(bare), "fast-import", "--quiet"], input=bytes(stream), check=True)
