"""The GitOps repository (ports.GitOpsRepo): one kustomization file per (environment, app) pins the image.

Pins are written without a working tree (a temporary index in the mirror, then commit-tree) and pushed
with a lease; when someone else pushed first, the change is re-applied on top of theirs and pushed again.
`read_pins` keeps what it read at the branch's head and reads the files again only once the head moved
(the embedded runtime asks every second, and a thousand apps pin four thousand files).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from promobot.adapters.git import credentials, kustomize, names
from promobot.adapters.git.mirror import Mirror
from promobot.domain import errors
from promobot.domain.deployments import Pin

ATTEMPTS = 6


class GitOpsGitRepo:
    def __init__(
        self,
        remote: str,
        mirror: Path,
        *,
        branch: str,
        path_template: str = "{env}/{app}/kustomization.yaml",
        envs: Sequence[str],
        apps: Mapping[str, str],
        credential: credentials.Credential | None = None,
    ) -> None:
        self.mirror = Mirror(remote, mirror, credential=credential)
        self.branch = names.branch(branch)
        self.ref = f"refs/heads/{self.branch}"
        self.envs = tuple(envs)
        self.apps = dict(apps)
        self.paths = {
            (env, app): names.repo_path(path_template.format(env=env, app=app))
            for env in self.envs
            for app in self.apps
        }
        self._pins_read: tuple[str, dict[tuple[str, str], Pin]] | None = None  # (head, its pins)

    def head(self) -> str | None:
        """The remote branch's head after a fresh fetch, or None if the branch does not exist yet."""
        with self.mirror.locked():
            self.mirror.fetch()
            return self.mirror.ref(self.ref)

    def read_pins(self) -> dict[tuple[str, str], Pin]:
        with self.mirror.locked():
            self.mirror.fetch()
            head = self.mirror.ref(self.ref)
            if head is None:
                return {}
            if self._pins_read is not None and self._pins_read[0] == head:
                return dict(self._pins_read[1])
            keys = list(self.paths)
            texts = self._read_files(head, [self.paths[key] for key in keys])
        pins = {}
        for (env, app), text in zip(keys, texts, strict=True):
            pin = kustomize.read_pin(text, self.apps[app]) if text is not None else None
            if pin is not None:
                pins[(env, app)] = pin
        self._pins_read = (head, pins)
        return dict(pins)

    def write_pin(self, env: str, app: str, pin: Pin, *, message: str) -> str | None:
        path = self._path(env, app)
        if pin.image != self.apps[app]:
            raise errors.InvalidReference(f"{app} deploys image {self.apps[app]!r}, not {pin.image!r}")
        with self.mirror.locked():
            for attempt in range(ATTEMPTS):
                self.mirror.fetch()
                head, current = self._head_and_file(path)
                text = kustomize.write_pin(current, pin)
                if text is None:
                    return None
                commit = self._commit(head, path, text, message)
                if self.mirror.push(commit, self.ref, lease=head or ""):
                    self.mirror.git(["update-ref", self.ref, commit])
                    return commit
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311 - jitter, not crypto
        raise errors.TemporaryError(
            f"could not pin {app} in {env}: the GitOps branch {self.branch} kept moving", retry_after=2.0
        )

    def _path(self, env: str, app: str) -> str:
        if env not in self.envs:
            raise errors.UnknownEnvironment(f"no environment {env!r} in the GitOps repository")
        if app not in self.apps:
            raise errors.UnknownApp(f"no app {app!r} in the GitOps repository")
        return self.paths[(env, app)]

    def _head_and_file(self, path: str) -> tuple[str | None, str | None]:
        """The branch head in the mirror and the text of `path` there, in one `cat-file --batch`."""
        (head, kind, _), (_, _, text) = self._objects([self.ref, f"{self.ref}:{path}"])
        if head is None or kind != "commit":
            return None, None
        return head, text

    def _read_files(self, commit: str, paths: Sequence[str]) -> list[str | None]:
        """The text of each path at `commit` (None where absent), read in one `cat-file --batch`."""
        return [text for _, _, text in self._objects([f"{commit}:{path}" for path in paths])]

    def _objects(self, names_: Sequence[str]) -> list[tuple[str | None, str, str | None]]:
        """(id, type, text if a blob) of each object name, (None, "missing", None) where absent."""
        query = "".join(f"{name}\n" for name in names_).encode()
        data = self.mirror.git(["cat-file", "--batch"], input=query).stdout
        found: list[tuple[str | None, str, str | None]] = []
        at = 0  # read by offset: slicing off each object would copy the rest of the output every time
        for _ in names_:
            end = data.index(b"\n", at)
            fields = data[at:end].split()
            at = end + 1
            if len(fields) != 3:  # "<name> missing"
                found.append((None, "missing", None))
                continue
            size, kind = int(fields[2]), fields[1].decode()
            found.append((fields[0].decode(), kind, data[at : at + size].decode("utf-8") if kind == "blob" else None))
            at += size + 1
        return found

    def _commit(self, head: str | None, path: str, text: str, message: str) -> str:
        """A commit on top of `head` (or a root commit) whose tree differs only in `path`."""
        with tempfile.TemporaryDirectory(dir=self.mirror.path, prefix="index-") as scratch:
            index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            self.mirror.git(["read-tree", f"{head}^{{tree}}" if head else "--empty"], extra_env=index)
            blob = self.mirror.out(["hash-object", "-w", "--stdin"], input=text.encode())
            self.mirror.git(["update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"], extra_env=index)
            tree = self.mirror.out(["write-tree"], extra_env=index)
        parents = ["-p", head] if head else []
        return self.mirror.out(["commit-tree", *parents, "-F", "-", tree], input=message.encode())
