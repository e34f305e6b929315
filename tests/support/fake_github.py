"""A contract fake of GitHub's REST API for pull requests, on loopback, keeping state so tests read as stories.

It follows the documented behaviour, awkward parts included: `mergeable` is null on the first GET after the
head or base changes (GitHub computes it in the background); a second open pull request for the same head
and base is a 422; merging with a `sha` that is not the head is a 409, an unmergeable or under-approved pull
request a 405; review states are upper case; review lists are paginated with a `Link` header; a bad token is
a 401 with a JSON message. `webhook()` builds signed deliveries whose payloads (lower-case review states)
match the fake's state.

Given `git_dirs` (repository -> a real bare repository), branch heads and commits are the bare
repository's own, read afresh on every request, and a merge writes a real merge commit into it and moves the
base branch there, as GitHub does on its side of a clone.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from support.loopback_http import Answer, JsonApp, Request

DOCS = "https://docs.github.com/rest"


@dataclass
class Pull:
    repo: str
    number: int
    branch: str
    base: str
    head_sha: str
    title: str
    body: str
    state: str = "open"
    merged: bool = False
    merge_commit_sha: str | None = None
    mergeable_known: bool = False
    conflicts: bool = False
    reviews: list[dict[str, Any]] = field(default_factory=list)


class FakeGitHub(JsonApp):
    def __init__(
        self,
        *,
        token: str = "ghp_fake0token0for0tests",
        repos: tuple[str, ...] = ("acme/web",),
        git_dirs: dict[str, Path] | None = None,
    ) -> None:
        super().__init__()
        self.git_dirs = dict(git_dirs or {})
        self.token = token
        self.branches: dict[str, dict[str, str]] = {repo: {} for repo in repos}
        self.commits: dict[str, dict[str, Any]] = {}
        self.pulls: dict[str, dict[int, Pull]] = {repo: {} for repo in repos}
        self.protection: dict[tuple[str, str], int | None] = {}  # None: protected, no review rule
        self.rules: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.protection_readable = True  # False: the token lacks admin rights (403)
        self.page_cap = 100
        self.merges: list[dict[str, Any]] = []
        self._ids = itertools.count(1000)

    # --- the story side: what people and git do on GitHub ----------------------------------------------
    def commit(self, message: str, parents: tuple[str, ...] = ()) -> str:
        sha = secrets.token_hex(20)
        self.commits[sha] = {"message": message, "parents": list(parents)}
        return sha

    def push(self, repo: str, branch: str, sha: str) -> None:
        with self.lock:
            self.branches[repo][branch] = sha
            for pull in self.pulls[repo].values():
                if pull.state == "open" and pull.branch == branch:
                    pull.head_sha, pull.mergeable_known = sha, False
                elif pull.state == "open" and pull.base == branch:
                    pull.mergeable_known = False

    def review(self, repo: str, number: int, user: str, state: str) -> dict[str, Any]:
        with self.lock:
            pull = self.pulls[repo][number]
            review = {
                "id": next(self._ids),
                "user": {"login": user, "type": "User"},
                "body": "",
                "state": state,
                "commit_id": pull.head_sha,
                "submitted_at": f"2024-05-01T10:{len(pull.reviews):02d}:00Z",
                "html_url": f"https://github.com/{repo}/pull/{number}#pullrequestreview-1",
                "author_association": "MEMBER",
            }
            pull.reviews.append(review)
            return review

    def dismiss(self, repo: str, number: int, review_id: int) -> None:
        with self.lock:
            for review in self.pulls[repo][number].reviews:
                if review["id"] == review_id:
                    review["state"] = "DISMISSED"

    def merge_by_hand(self, repo: str, number: int) -> str:
        with self.lock:
            return self._merge(self.pulls[repo][number], "Merge pull request", "")

    def required(self, repo: str, base: str) -> int:
        if (repo, base) in self.protection:
            return self.protection[(repo, base)] or 0
        counts = [r["parameters"]["required_approving_review_count"] for r in self.rules.get((repo, base), [])]
        return max(counts, default=0)

    # --- the API side ----------------------------------------------------------------------------------
    def handle(self, request: Request) -> Answer:
        self._read_git()
        auth = request.headers.get("authorization", "")
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return Answer(401, {"message": "Bad credentials", "documentation_url": DOCS})
        for method, pattern, action in ROUTES:
            found = re.fullmatch(pattern, request.path)
            if found and method == request.method:
                repo = f"{found['owner']}/{found['name']}"
                if repo not in self.pulls:
                    return _not_found()
                params = {k: unquote(v) for k, v in found.groupdict().items()}
                answer: Answer = getattr(self, action)(request, repo, params)
                return answer
        return _not_found()

    def create_pull(self, request: Request, repo: str, params: dict[str, str]) -> Answer:
        body = request.body or {}
        branch, base = str(body.get("head", "")).split(":")[-1], str(body.get("base", ""))
        if branch not in self.branches[repo] or base not in self.branches[repo]:
            return _invalid(
                {
                    "resource": "PullRequest",
                    "field": "head" if branch not in self.branches[repo] else "base",
                    "code": "invalid",
                }
            )
        for pull in self.pulls[repo].values():
            if pull.state == "open" and pull.branch == branch and pull.base == base:
                owner = repo.split("/")[0]
                return _invalid(
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {owner}:{branch}.",
                    }
                )
        number = max(self.pulls[repo], default=0) + 1
        pull = Pull(
            repo, number, branch, base, self.branches[repo][branch], body.get("title", ""), body.get("body", "")
        )
        self.pulls[repo][number] = pull
        return Answer(201, self._pull_json(pull, computing=False))

    def list_pulls(self, request: Request, repo: str, params: dict[str, str]) -> Answer:
        head, base, state = request.query.get("head"), request.query.get("base"), request.query.get("state", "open")
        found = [
            self._pull_json(p, computing=False)
            for p in self.pulls[repo].values()
            if (state == "all" or p.state == state)
            and (head is None or head == f"{repo.split('/')[0]}:{p.branch}")
            and (base is None or base == p.base)
        ]
        return Answer(200, found)

    def get_pull(self, request: Request, repo: str, params: dict[str, str]) -> Answer:
        pull = self.pulls[repo].get(int(params["number"]))
        return Answer(200, self._pull_json(pull)) if pull else _not_found()

    def list_reviews(self, request: Request, repo: str, params: dict[str, str]) -> Answer:
        pull = self.pulls[repo].get(int(params["number"]))
        if pull is None:
            return _not_found()
        size = min(int(request.query.get("per_page", 30)), self.page_cap)
        page = int(request.query.get("page", 1))
        items = pull.reviews[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(pull.reviews):
            last = (len(pull.reviews) + size - 1) // size
            url = f"{self.base_url}{request.path}?per_page={size}&page="
            headers["Link"] = f'<{url}{page + 1}>; rel="next", <{url}{last}>; rel="last"'
        return Answer(200, items, headers)

    def merge(self, request: Request, repo: str, params: dict[str, str]) -> Answer:
        pull = self.pulls[repo].get(int(params["number"]))
        if pull is None:
            return _not_found()
        body = request.body or {}
        if pull.merged or pull.state != "open" or pull.conflicts:
            return Answer(405, {"message": "Pull Request is not mergeable", "documentation_url": DOCS})
        if body.get("sha") and body["sha"] != pull.head_sha:
            return Answer(
                409, {"message": "Head branch was modified. Review and try the merge again.", "documentation_url": DOCS}
            )
        required = self.required(repo, pull.base)
        if len(_approvers(pull.reviews)) < required:
            return Answer(
                405,
                {
                    "message": f"At least {required} approving review is required by reviewers with write access.",
                    "documentation_url": DOCS,
                },
            )
        sha = self._merge(pull, str(body.get("commit_title", "")), str(body.get("commit_message", "")))
        self.merges.append(dict(body, number=pull.number))  # after the merge: a test seeing it sees the branch
        return Answer(200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"})

    def get_commit(self, request: Request, repo: str, params: dict[str, str]) -> Answer:
        commit = self.commits.get(params["sha"]) or self._git_commit(repo, params["sha"])
        if commit is None:
            return Answer(422, {"message": f"No commit found for SHA: {params['sha']}", "documentation_url": DOCS})
        parents = [{"sha": p} for p in commit["parents"]]
        return Answer(200, {"sha": params["sha"], "commit": {"message": commit["message"]}, "parents": parents})

    def get_protection(self, request: Request, repo: str, params: dict[str, str]) -> Answer:
        if not self.protection_readable:
            return Answer(
                403, {"message": "Resource not accessible by personal access token", "documentation_url": DOCS}
            )
        key = (repo, params["branch"])
        if key not in self.protection:
            return Answer(404, {"message": "Branch not protected", "documentation_url": DOCS})
        count = self.protection[key]
        body: dict[str, Any] = {"url": f"{self.base_url}{request.path}", "enforce_admins": {"enabled": False}}
        if count is not None:
            body["required_pull_request_reviews"] = {
                "dismiss_stale_reviews": False,
                "require_code_owner_reviews": False,
                "required_approving_review_count": count,
            }
        return Answer(200, body)

    def get_rules(self, request: Request, repo: str, params: dict[str, str]) -> Answer:
        return Answer(200, self.rules.get((repo, params["branch"]), []))

    # --- helpers -----------------------------------------------------------------------------------------
    def _git(self, repo: str, *args: str, input: str | None = None) -> str:
        done = subprocess.run(
            ["git", "--git-dir", str(self.git_dirs[repo]), *args], input=input, capture_output=True, text=True
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    def _read_git(self) -> None:
        """Take the bare repositories' branch heads as GitHub's (a push there is a push to GitHub)."""
        for repo in self.git_dirs:
            listed = self._git(repo, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads/")
            heads = dict(line.split(" ", 1) for line in listed.splitlines() if line)
            for branch, sha in heads.items():
                if self.branches[repo].get(branch) != sha:
                    self.push(repo, branch, sha)
            for gone in set(self.branches[repo]) - set(heads):
                del self.branches[repo][gone]

    def _git_commit(self, repo: str, sha: str) -> dict[str, Any] | None:
        if repo not in self.git_dirs or self._git(repo, "cat-file", "-t", sha) != "commit":
            return None
        message = self._git(repo, "log", "-1", "--format=%B", sha)
        parents = self._git(repo, "log", "-1", "--format=%P", sha).split()
        return {"message": message, "parents": parents}

    def _merge(self, pull: Pull, title: str, message: str) -> str:
        base_head = self.branches[pull.repo][pull.base]
        text = f"{title}\n\n{message}".strip()
        if pull.repo in self.git_dirs:
            tree = self._git(pull.repo, "rev-parse", f"{pull.head_sha}^{{tree}}")
            sha = self._git(pull.repo, "commit-tree", tree, "-p", base_head, "-p", pull.head_sha, "-F", "-", input=text)
            self._git(pull.repo, "update-ref", f"refs/heads/{pull.base}", sha, base_head)
        else:
            sha = self.commit(text, (base_head, pull.head_sha))
        self.branches[pull.repo][pull.base] = sha
        pull.merged, pull.state, pull.merge_commit_sha = True, "closed", sha
        return sha

    def _pull_json(self, pull: Pull | None, *, computing: bool = True) -> dict[str, Any]:
        assert pull is not None
        mergeable: bool | None = None
        if pull.merged:
            mergeable = None
        elif pull.mergeable_known:
            mergeable = not pull.conflicts
        elif computing:
            pull.mergeable_known = True  # the first read starts the background job; the next one sees its result
        owner = pull.repo.split("/")[0]
        return {
            "url": f"{self.base_url}/repos/{pull.repo}/pulls/{pull.number}",
            "html_url": f"https://github.com/{pull.repo}/pull/{pull.number}",
            "number": pull.number,
            "state": pull.state,
            "title": pull.title,
            "body": pull.body,
            "user": {"login": "promobot[bot]"},
            "head": {"ref": pull.branch, "sha": pull.head_sha, "label": f"{owner}:{pull.branch}"},
            "base": {
                "ref": pull.base,
                "sha": self.branches[pull.repo].get(pull.base, ""),
                "label": f"{owner}:{pull.base}",
            },
            "merged": pull.merged,
            "mergeable": mergeable,
            "mergeable_state": "unknown" if mergeable is None else ("clean" if mergeable else "dirty"),
            "merge_commit_sha": pull.merge_commit_sha,
        }


def _approvers(reviews: list[dict[str, Any]]) -> set[str]:
    latest: dict[str, str] = {}
    for review in reviews:
        if review["state"] != "COMMENTED":
            latest[review["user"]["login"]] = review["state"]
    return {user for user, state in latest.items() if state == "APPROVED"}


def _not_found() -> Answer:
    return Answer(404, {"message": "Not Found", "documentation_url": DOCS})


def _invalid(error: dict[str, Any]) -> Answer:
    return Answer(422, {"message": "Validation Failed", "errors": [error], "documentation_url": DOCS})


REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
ROUTES = [
    ("POST", REPO + r"/pulls", "create_pull"),
    ("GET", REPO + r"/pulls", "list_pulls"),
    ("GET", REPO + r"/pulls/(?P<number>\d+)", "get_pull"),
    ("GET", REPO + r"/pulls/(?P<number>\d+)/reviews", "list_reviews"),
    ("PUT", REPO + r"/pulls/(?P<number>\d+)/merge", "merge"),
    ("GET", REPO + r"/commits/(?P<sha>[0-9a-f]{40})", "get_commit"),
    ("GET", REPO + r"/branches/(?P<branch>[^/]+)/protection", "get_protection"),
    ("GET", REPO + r"/rules/branches/(?P<branch>[^/]+)", "get_rules"),
]


# --- webhooks: what GitHub would POST to promobot --------------------------------------------------------
def webhook(secret: str, event: str, payload: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """Headers and raw body of one signed delivery."""
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": secrets.token_hex(16),
        "X-Hub-Signature-256": signature,
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/fake",
    }
    return headers, body


def pull_request_payload(fake: FakeGitHub, repo: str, number: int, action: str) -> dict[str, Any]:
    pull = fake._pull_json(fake.pulls[repo][number], computing=False)
    return {"action": action, "number": number, "pull_request": pull, **_common(repo)}


def review_payload(
    fake: FakeGitHub, repo: str, number: int, review: dict[str, Any], action: str = "submitted"
) -> dict[str, Any]:
    pull = fake._pull_json(fake.pulls[repo][number], computing=False)
    lower = dict(review, state=str(review["state"]).lower())  # webhook states are lower case
    return {"action": action, "review": lower, "pull_request": pull, **_common(repo)}


def _common(repo: str) -> dict[str, Any]:
    owner, name = repo.split("/")
    return {
        "repository": {"id": 1296269, "name": name, "full_name": repo, "owner": {"login": owner}},
        "sender": {"login": "octocat", "type": "User"},
    }
