"""A contract fake of GitLab's REST API (v4) for merge requests, on loopback, keeping state so tests read as stories.

Documented behaviour, awkward parts included: `detailed_merge_status` is `checking` on the first read after
the head or target changes; a second open merge request for the same source branch is a 409 with a list
`message`; accepting with a `sha` that is not the head is a 409, an unapproved or closed merge request a 405,
a conflicting one a 406; a bad token is a 401 `{"message": "401 Unauthorized"}`. Projects are addressed by
URL-encoded path or numeric id. `webhook()` builds deliveries with `X-Gitlab-Token`.

Given `git_dirs` (project -> a real bare repository), branch heads and commits are the bare repository's
own, read afresh on every request, and a merge writes a real merge commit (with the `merge_commit_message`
given) into it and moves the target branch there, as GitLab does on its side of a clone.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from support.loopback_http import Answer, JsonApp, Request


@dataclass
class MergeRequest:
    project: str
    iid: int
    branch: str
    base: str
    sha: str
    title: str
    description: str
    state: str = "opened"
    merge_commit_sha: str | None = None
    checked: bool = False
    conflicts: bool = False
    draft: bool = False
    approved_by: list[str] = field(default_factory=list)


class FakeGitLab(JsonApp):
    def __init__(
        self,
        *,
        token: str = "glpat-fake0token0for0tests",
        projects: tuple[str, ...] = ("acme/web",),
        git_dirs: dict[str, Path] | None = None,
    ) -> None:
        super().__init__()
        self.git_dirs = dict(git_dirs or {})
        self.token = token
        self.ids = {path: 100 + n for n, path in enumerate(projects)}
        self.branches: dict[str, dict[str, str]] = {p: {} for p in projects}
        self.commits: dict[str, dict[str, Any]] = {}
        self.mrs: dict[str, dict[int, MergeRequest]] = {p: {} for p in projects}
        self.approvals_required: dict[str, int] = {p: 0 for p in projects}
        self.eligible: dict[str, set[str] | None] = {p: None for p in projects}  # None: anyone may approve
        self.merges: list[dict[str, Any]] = []

    # --- the story side ------------------------------------------------------------------------------
    def commit(self, message: str, parents: tuple[str, ...] = ()) -> str:
        sha = secrets.token_hex(20)
        self.commits[sha] = {"message": message, "parents": list(parents)}
        return sha

    def push(self, project: str, branch: str, sha: str) -> None:
        with self.lock:
            self.branches[project][branch] = sha
            for mr in self.mrs[project].values():
                if mr.state == "opened" and mr.branch == branch:
                    mr.sha, mr.checked, mr.approved_by = sha, False, []  # "reset approvals on push"
                elif mr.state == "opened" and mr.base == branch:
                    mr.checked = False

    def approve(self, project: str, iid: int, user: str) -> None:
        with self.lock:
            if user not in self.mrs[project][iid].approved_by:
                self.mrs[project][iid].approved_by.append(user)

    def unapprove(self, project: str, iid: int, user: str) -> None:
        with self.lock:
            self.mrs[project][iid].approved_by.remove(user)

    def merge_by_hand(self, project: str, iid: int) -> str:
        with self.lock:
            return self._merge(self.mrs[project][iid], f"Merge branch '{self.mrs[project][iid].branch}'")

    def approvals_left(self, mr: MergeRequest) -> int:
        eligible = self.eligible[mr.project]
        counted = [u for u in mr.approved_by if eligible is None or u in eligible]
        return max(0, self.approvals_required[mr.project] - len(counted))

    # --- the API side -----------------------------------------------------------------------------------
    def handle(self, request: Request) -> Answer:
        self._read_git()
        token = request.headers.get("private-token") or request.headers.get("authorization", "").removeprefix("Bearer ")
        if token != self.token:
            return Answer(401, {"message": "401 Unauthorized"})
        for method, pattern, action in ROUTES:
            found = re.fullmatch(pattern, request.path)
            if found and method == request.method:
                project = self._project(unquote(found["id"]))
                if project is None:
                    return Answer(404, {"message": "404 Project Not Found"})
                iid = int(found["iid"]) if "iid" in found.groupdict() else 0
                if iid and iid not in self.mrs[project]:
                    return Answer(404, {"message": "404 Not found"})
                answer: Answer = getattr(self, action)(request, project, self.mrs[project].get(iid), found)
                return answer
        return Answer(404, {"message": "404 Not Found"})

    def create(self, request: Request, project: str, _: Any, found: Any) -> Answer:
        body = request.body or {}
        branch, base = str(body.get("source_branch", "")), str(body.get("target_branch", ""))
        for mr in self.mrs[project].values():
            if mr.state == "opened" and mr.branch == branch and mr.base == base:
                return Answer(
                    409, {"message": [f"Another open merge request already exists for this source branch: !{mr.iid}"]}
                )
        if branch not in self.branches[project]:
            return Answer(400, {"message": {"source_branch": ["is invalid"]}})
        iid = max(self.mrs[project], default=0) + 1
        mr = MergeRequest(
            project,
            iid,
            branch,
            base,
            self.branches[project][branch],
            body.get("title", ""),
            body.get("description", ""),
        )
        self.mrs[project][iid] = mr
        return Answer(201, self._json(mr, reading=False))

    def list(self, request: Request, project: str, _: Any, found: Any) -> Answer:
        q = request.query
        return Answer(
            200,
            [
                self._json(mr, reading=False)
                for mr in self.mrs[project].values()
                if q.get("state", "all") in ("all", mr.state)
                and q.get("source_branch", mr.branch) == mr.branch
                and q.get("target_branch", mr.base) == mr.base
            ],
        )

    def get(self, request: Request, project: str, mr: MergeRequest, found: Any) -> Answer:
        return Answer(200, self._json(mr))

    def approvals(self, request: Request, project: str, mr: MergeRequest, found: Any) -> Answer:
        left = self.approvals_left(mr)
        return Answer(
            200,
            {
                "id": 5000 + mr.iid,
                "iid": mr.iid,
                "project_id": self.ids[project],
                "title": mr.title,
                "state": mr.state,
                "approved": left == 0,
                "approvals_required": self.approvals_required[project],
                "approvals_left": left,
                "approved_by": [{"user": _user(name)} for name in mr.approved_by],
            },
        )

    def merge(self, request: Request, project: str, mr: MergeRequest, found: Any) -> Answer:
        body = request.body or {}
        if mr.state != "opened" or mr.draft or self.approvals_left(mr) > 0:
            return Answer(405, {"message": "405 Method Not Allowed"})
        if body.get("sha") and body["sha"] != mr.sha:
            return Answer(409, {"message": f"SHA does not match HEAD of source branch: {mr.sha}"})
        if mr.conflicts:
            return Answer(406, {"message": "Branch cannot be merged"})
        self._merge(mr, str(body.get("merge_commit_message") or f"Merge branch '{mr.branch}'"))
        self.merges.append(dict(body, iid=mr.iid))  # after the merge is written: a test seeing it sees the branch
        return Answer(200, self._json(mr))

    def get_commit(self, request: Request, project: str, _: Any, found: Any) -> Answer:
        commit = self.commits.get(found["sha"]) or self._git_commit(project, found["sha"])
        if commit is None:
            return Answer(404, {"message": "404 Commit Not Found"})
        message = commit["message"]
        return Answer(
            200,
            {
                "id": found["sha"],
                "short_id": found["sha"][:8],
                "title": message.split("\n")[0],
                "message": message,
                "parent_ids": commit["parents"],
            },
        )

    # --- helpers ------------------------------------------------------------------------------------------
    def _git(self, project: str, *args: str, input: str | None = None) -> str:
        done = subprocess.run(
            ["git", "--git-dir", str(self.git_dirs[project]), *args], input=input, capture_output=True, text=True
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    def _read_git(self) -> None:
        """Take the bare repositories' branch heads as GitLab's (a push there is a push to GitLab)."""
        for project in self.git_dirs:
            listed = self._git(project, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads/")
            heads = dict(line.split(" ", 1) for line in listed.splitlines() if line)
            for branch, sha in heads.items():
                if self.branches[project].get(branch) != sha:
                    self.push(project, branch, sha)
            for gone in set(self.branches[project]) - set(heads):
                del self.branches[project][gone]

    def _git_commit(self, project: str, sha: str) -> dict[str, Any] | None:
        if project not in self.git_dirs or self._git(project, "cat-file", "-t", sha) != "commit":
            return None
        message = self._git(project, "log", "-1", "--format=%B", sha)
        parents = self._git(project, "log", "-1", "--format=%P", sha).split()
        return {"message": message, "parents": parents}

    def _project(self, ref: str) -> str | None:
        for path, number in self.ids.items():
            if ref in (path, str(number)):
                return path
        return None

    def _merge(self, mr: MergeRequest, message: str) -> str:
        base_head = self.branches[mr.project][mr.base]
        if mr.project in self.git_dirs:
            tree = self._git(mr.project, "rev-parse", f"{mr.sha}^{{tree}}")
            sha = self._git(mr.project, "commit-tree", tree, "-p", base_head, "-p", mr.sha, "-F", "-", input=message)
            self._git(mr.project, "update-ref", f"refs/heads/{mr.base}", sha, base_head)
        else:
            sha = self.commit(message, (base_head, mr.sha))
        self.branches[mr.project][mr.base] = sha
        mr.state, mr.merge_commit_sha = "merged", sha
        return sha

    def _json(self, mr: MergeRequest, *, reading: bool = True) -> dict[str, Any]:
        if mr.state != "opened":
            status, legacy = "not_open", "cannot_be_merged"
        elif not mr.checked:
            status, legacy = "checking", "checking"
            mr.checked = mr.checked or reading  # the first read starts the check; the next one sees its result
        elif mr.conflicts:
            status, legacy = "conflict", "cannot_be_merged"
        elif mr.draft:
            status, legacy = "draft_status", "can_be_merged"
        elif self.approvals_left(mr) > 0:
            status, legacy = "not_approved", "can_be_merged"
        else:
            status, legacy = "mergeable", "can_be_merged"
        return {
            "id": 5000 + mr.iid,
            "iid": mr.iid,
            "project_id": self.ids[mr.project],
            "title": mr.title,
            "description": mr.description,
            "state": mr.state,
            "source_branch": mr.branch,
            "target_branch": mr.base,
            "sha": mr.sha,
            "merge_commit_sha": mr.merge_commit_sha,
            "draft": mr.draft,
            "has_conflicts": mr.conflicts,
            "detailed_merge_status": status,
            "merge_status": legacy,
            "author": _user("promobot"),
            "web_url": f"https://gitlab.example.com/{mr.project}/-/merge_requests/{mr.iid}",
        }


def _user(name: str) -> dict[str, Any]:
    return {"id": abs(hash(name)) % 10_000, "username": name, "name": name.title(), "state": "active"}


PROJECT = r"/api/v4/projects/(?P<id>[^/]+)"
MR = PROJECT + r"/merge_requests/(?P<iid>\d+)"
ROUTES = [
    ("POST", PROJECT + r"/merge_requests", "create"),
    ("GET", PROJECT + r"/merge_requests", "list"),
    ("GET", MR, "get"),
    ("GET", MR + r"/approvals", "approvals"),
    ("PUT", MR + r"/merge", "merge"),
    ("GET", PROJECT + r"/repository/commits/(?P<sha>[0-9a-f]{40})", "get_commit"),
]


# --- webhooks: what GitLab would POST to promobot ------------------------------------------------------------
def webhook(secret: str, event: str, payload: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    headers = {
        "X-Gitlab-Event": event,
        "X-Gitlab-Token": secret,
        "X-Gitlab-Event-UUID": secrets.token_hex(16),
        "X-Gitlab-Webhook-UUID": "6f3c1b8e-0000-4000-8000-000000000001",
        "Content-Type": "application/json",
        "User-Agent": "GitLab/17.0.0",
    }
    return headers, json.dumps(payload).encode()


def merge_request_payload(fake: FakeGitLab, project: str, iid: int, action: str, user: str = "ana") -> dict[str, Any]:
    mr = fake.mrs[project][iid]
    return {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": _user(user),
        "project": _project(fake, project),
        "object_attributes": {
            "id": 5000 + iid,
            "iid": iid,
            "title": mr.title,
            "state": mr.state,
            "action": action,
            "source_branch": mr.branch,
            "target_branch": mr.base,
            "merge_commit_sha": mr.merge_commit_sha,
            "last_commit": {"id": mr.sha, "message": fake.commits.get(mr.sha, {}).get("message", "")},
            "url": f"https://gitlab.example.com/{project}/-/merge_requests/{iid}",
        },
    }


def _project(fake: FakeGitLab, project: str) -> dict[str, Any]:
    return {
        "id": fake.ids[project],
        "name": project.rsplit("/", 1)[-1],
        "path_with_namespace": project,
        "web_url": f"https://gitlab.example.com/{project}",
        "default_branch": "main",
    }
