"""The GitHub forge (ports.Forge): promotion pull requests, their reviews, and merging with the expected head.

Each app maps to one repository ("owner/name"). A pull request is opened from the promotion branch; its
approvals are read from reviews (each reviewer's latest deciding review) and the count required from branch
protection or rulesets (`github_rules`). With `merge="auto"` promobot merges through the API, passing the
head `sha` it expects so a moved head is refused (409) rather than merged; the merge commit carries the
promotion commit's message, trailers included. With `merge="manual"` a person merges on GitHub and
`merge_pull_request` reports TemporaryError until they have.
`token` is the API token, or the file holding it, read again on every request (`calling`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from promobot import ports
from promobot.adapters.forge import github_rules
from promobot.adapters.forge.calling import Api, message
from promobot.adapters.forge.reviews import Review, ReviewState, latest_approvals
from promobot.domain import errors
from promobot.domain.artifacts import FULL_SHA

MergeMode = Literal["auto", "manual"]
COMPUTING_RETRY = 3.0
MANUAL_RETRY = 30.0


class GitHubForge:
    def __init__(
        self,
        *,
        api_url: str = "https://api.github.com",
        token: str | Path,
        repos: Mapping[str, str],
        merge: MergeMode = "auto",
        default_required: int = 1,
        timeout: float = 15.0,
    ) -> None:
        if merge not in ("auto", "manual"):
            raise errors.ConfigError(f"GitHub merge mode must be auto or manual, not {merge!r}")
        for app, repo in repos.items():
            owner, _, name = repo.partition("/")
            if not owner or not name or "/" in name:
                raise errors.ConfigError(f"GitHub repository of {app} must be owner/name, not {repo!r}")
        self.repos = dict(repos)
        self.merge = merge
        self.default_required = default_required
        self._api = Api(
            name="GitHub",
            base_url=api_url,
            timeout=timeout,
            token=token,
            auth=lambda token: {"Authorization": f"Bearer {token}"},
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "promobot",
            },
        )

    def close(self) -> None:
        self._api.close()

    def open_pull_request(
        self, *, app: str, branch: str, base: str, head_sha: str, title: str, body: str
    ) -> ports.PullRequest:
        repo = self._repo(app)
        payload = {"title": title, "head": branch, "base": base, "body": body, "maintainer_can_modify": False}
        response = self._api.call("POST", f"/repos/{repo}/pulls", json=payload, expect=(201, 422))
        if response.status_code == 201:
            return _pull(response.json())
        if "already exists" not in message(response):
            raise self._api.failure("POST", f"/repos/{repo}/pulls", response)
        owner = repo.split("/")[0]
        found = self._api.call(
            "GET", f"/repos/{repo}/pulls", params={"head": f"{owner}:{branch}", "base": base, "state": "open"}
        ).json()
        if not found:
            raise errors.TemporaryError(f"GitHub says a pull request of {branch} exists but lists none open")
        return _pull(found[0])

    def review_state(self, app: str, number: int) -> ReviewState:
        """Approvals, the required count, and whether #number is merged or mergeable, as GitHub has them."""
        repo = self._repo(app)
        pr = self._get(repo, number)
        reviews = [
            Review(reviewer=(item.get("user") or {}).get("login", ""), state=str(item.get("state", "")))
            for item in self._api.pages(f"/repos/{repo}/pulls/{int(number)}/reviews", params={"per_page": 100})
        ]
        return ReviewState(
            approvals=latest_approvals(reviews),
            required=github_rules.required_approvals(self._api, repo, pr["base"]["ref"], default=self.default_required),
            head_sha=pr["head"]["sha"],
            merged=bool(pr.get("merged")),
            mergeable=pr.get("mergeable"),
            url=pr.get("html_url", ""),
        )

    def merge_pull_request(self, *, app: str, number: int, base: str, head_sha: str) -> None:
        repo = self._repo(app)
        if not FULL_SHA.match(head_sha):
            raise errors.InvalidReference(f"{head_sha!r} is not a full commit SHA")
        pr = self._get(repo, number)
        if pr["base"]["ref"] != base:
            raise errors.PermanentError(f"pull request #{number} goes into {pr['base']['ref']}, not {base}")
        if pr.get("merged"):
            return  # merged earlier (by promobot before a restart, or by a person)
        if pr.get("state") == "closed":
            raise errors.PermanentError(f"pull request #{number} was closed without merging", pr.get("html_url", ""))
        if self.merge == "manual":
            raise errors.TemporaryError(
                f"waiting for someone to merge pull request #{number} on GitHub", pr.get("html_url", ""), MANUAL_RETRY
            )
        if pr.get("mergeable") is None:
            raise errors.TemporaryError(
                f"GitHub is still working out whether pull request #{number} can merge", retry_after=COMPUTING_RETRY
            )
        title, _, rest = self._commit_message(repo, head_sha).partition("\n")
        path = f"/repos/{repo}/pulls/{int(number)}/merge"
        payload = {"sha": head_sha, "merge_method": "merge", "commit_title": title, "commit_message": rest.strip()}
        response = self._api.call("PUT", path, json=payload, expect=(200, 405, 409))
        if response.status_code == 409:
            raise errors.TemporaryError(
                f"pull request #{number}'s head is no longer {head_sha[:7]}, so promobot did not merge it",
                f"GitHub: {message(response)}",
            )
        if response.status_code == 405:
            raise errors.TemporaryError(
                f"GitHub will not merge pull request #{number} yet: {message(response)}", retry_after=MANUAL_RETRY
            )

    def _commit_message(self, repo: str, sha: str) -> str:
        body = self._api.call("GET", f"/repos/{repo}/commits/{sha}").json()
        return str((body.get("commit") or {}).get("message", ""))

    def _get(self, repo: str, number: int) -> Any:
        response = self._api.call("GET", f"/repos/{repo}/pulls/{int(number)}", expect=(200, 404))
        if response.status_code == 404:
            raise errors.UnknownOperation(f"{repo} has no pull request #{number} that promobot's token can see")
        return response.json()

    def _repo(self, app: str) -> str:
        if app not in self.repos:
            raise errors.UnknownApp(f"no GitHub repository for app {app!r}")
        return self.repos[app]


def _pull(body: Any) -> ports.PullRequest:
    return ports.PullRequest(number=int(body["number"]), url=str(body["html_url"]), head_sha=str(body["head"]["sha"]))
