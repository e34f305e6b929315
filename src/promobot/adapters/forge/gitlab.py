"""The GitLab forge (ports.Forge): promotion merge requests, their approvals, and merging with the expected head.

Each app maps to one project, by path ("group/project") or numeric id. Approvals come from
`/merge_requests/:iid/approvals` (`approved_by`, `approvals_required`); mergeability from
`detailed_merge_status` (or the older `merge_status`), None while GitLab is still checking. With
`merge="auto"` promobot accepts the merge request with `sha` set to the head it expects: 409 (head moved),
405 (not mergeable now: draft, pipeline, approvals) and 406/422 (cannot be merged as it stands) become
TemporaryError. With `merge="manual"` a person merges and `merge_pull_request` waits for them.
`token` is the API token, or the file holding it, read again on every request (`calling`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from promobot import ports
from promobot.adapters.forge.calling import Api, message
from promobot.adapters.forge.reviews import ReviewState
from promobot.domain import errors
from promobot.domain.artifacts import FULL_SHA

MergeMode = Literal["auto", "manual"]
CHECKING = frozenset({"checking", "unchecked", "preparing", "approvals_syncing", "cannot_be_merged_recheck"})
MERGEABLE = frozenset({"mergeable", "can_be_merged", "not_approved"})
REFUSALS = {
    405: "it cannot be accepted now (draft, closed, pipeline pending or failed, or approvals missing)",
    406: "its branch cannot be merged as it stands (conflicts, or GitLab has not finished checking)",
    409: "its head is no longer the commit promobot expects",
    422: "its branch cannot be merged",
}


class GitLabForge:
    def __init__(
        self,
        *,
        api_url: str = "https://gitlab.com/api/v4",
        token: str | Path,
        projects: Mapping[str, str | int],
        merge: MergeMode = "auto",
        default_required: int = 1,
        timeout: float = 15.0,
    ) -> None:
        if merge not in ("auto", "manual"):
            raise errors.ConfigError(f"GitLab merge mode must be auto or manual, not {merge!r}")
        self.projects = {app: quote(str(project), safe="") for app, project in projects.items()}
        self.merge = merge
        self.default_required = default_required
        self._api = Api(
            name="GitLab",
            base_url=api_url,
            timeout=timeout,
            token=token,
            auth=lambda token: {"PRIVATE-TOKEN": token},
            headers={"User-Agent": "promobot"},
        )

    def close(self) -> None:
        self._api.close()

    def open_pull_request(
        self, *, app: str, branch: str, base: str, head_sha: str, title: str, body: str
    ) -> ports.PullRequest:
        path = f"/projects/{self._project(app)}/merge_requests"
        payload = {"source_branch": branch, "target_branch": base, "title": title, "description": body}
        response = self._api.call("POST", path, json=payload, expect=(201, 409))
        if response.status_code == 201:
            return _pull(response.json(), head_sha)
        found = self._api.call(
            "GET", path, params={"state": "opened", "source_branch": branch, "target_branch": base}
        ).json()
        if not found:
            raise errors.TemporaryError(
                f"GitLab says a merge request of {branch} exists ({message(response)}) but lists none"
            )
        return _pull(found[0], head_sha)

    def review_state(self, app: str, number: int) -> ReviewState:
        """Approvals, the required count, and whether !number is merged or mergeable, as GitLab has them."""
        project = self._project(app)
        mr = self._get(project, number)
        approvals = self._api.call("GET", f"/projects/{project}/merge_requests/{int(number)}/approvals").json()
        approved_by = [str((entry.get("user") or {}).get("username", "")) for entry in approvals.get("approved_by", [])]
        approvers = [name for name in approved_by if name]
        required = int(approvals.get("approvals_required") or 0) or self.default_required
        # Approvals from people outside the approval rules do not lower approvals_left: require those too.
        left = approvals.get("approvals_left")
        if isinstance(left, int) and left > 0:
            required = max(required, len(approvers) + left)
        return ReviewState(
            approvals=approvers,
            required=required,
            head_sha=str(mr.get("sha", "")),
            merged=mr.get("state") == "merged",
            mergeable=_mergeable(mr),
            url=str(mr.get("web_url", "")),
        )

    def merge_pull_request(self, *, app: str, number: int, base: str, head_sha: str) -> None:
        project = self._project(app)
        if not FULL_SHA.match(head_sha):
            raise errors.InvalidReference(f"{head_sha!r} is not a full commit SHA")
        mr = self._get(project, number)
        url = str(mr.get("web_url", ""))
        if mr.get("target_branch") != base:
            raise errors.PermanentError(f"merge request !{number} goes into {mr.get('target_branch')}, not {base}")
        if mr.get("state") == "merged":
            return  # merged earlier (by promobot before a restart, or by a person)
        if mr.get("state") in ("closed", "locked"):
            raise errors.PermanentError(f"merge request !{number} is {mr.get('state')} without merging", url)
        if self.merge == "manual":
            raise errors.TemporaryError(f"waiting for someone to merge merge request !{number} on GitLab", url, 30.0)
        if _mergeable(mr) is None:
            raise errors.TemporaryError(
                f"GitLab is still checking whether merge request !{number} can merge", retry_after=3.0
            )
        commit = self._api.call("GET", f"/projects/{project}/repository/commits/{head_sha}").json()
        payload = {
            "sha": head_sha,
            "merge_commit_message": str(commit.get("message", "")),
            "should_remove_source_branch": False,
        }
        path = f"/projects/{project}/merge_requests/{int(number)}/merge"
        response = self._api.call("PUT", path, json=payload, expect=(200, *REFUSALS))
        if response.status_code != 200:
            raise errors.TemporaryError(
                f"GitLab did not merge merge request !{number}: {REFUSALS[response.status_code]}",
                f"GitLab: {message(response)}",
                retry_after=10.0,
            )

    def _get(self, project: str, number: int) -> Any:
        response = self._api.call("GET", f"/projects/{project}/merge_requests/{int(number)}", expect=(200, 404))
        if response.status_code == 404:
            raise errors.UnknownOperation(f"GitLab has no merge request !{number} that promobot's token can see")
        return response.json()

    def _project(self, app: str) -> str:
        if app not in self.projects:
            raise errors.UnknownApp(f"no GitLab project for app {app!r}")
        return self.projects[app]


def _mergeable(mr: Any) -> bool | None:
    status = str(mr.get("detailed_merge_status") or mr.get("merge_status") or "unchecked")
    if status in CHECKING:
        return None
    return status in MERGEABLE


def _pull(body: Any, head_sha: str) -> ports.PullRequest:
    return ports.PullRequest(
        number=int(body["iid"]), url=str(body["web_url"]), head_sha=str(body.get("sha") or head_sha)
    )
