"""How many approving reviews GitHub requires before a pull request into a branch may merge.

Branch protection first (`required_pull_request_reviews.required_approving_review_count`; reading it needs
admin rights, so a 403 or 404 falls through), then the rulesets that apply to the branch (the largest
`required_approving_review_count` among its `pull_request` rules), then the adapter's default.
"""

from __future__ import annotations

from urllib.parse import quote

from promobot.adapters.forge.calling import Api


def required_approvals(api: Api, repo: str, branch: str, *, default: int) -> int:
    protected = _from_protection(api, repo, branch)
    if protected is not None:
        return protected
    ruled = _from_rulesets(api, repo, branch)
    return ruled if ruled is not None else default


def _from_protection(api: Api, repo: str, branch: str) -> int | None:
    response = api.call("GET", f"/repos/{repo}/branches/{quote(branch, safe='')}/protection", expect=(200, 403, 404))
    if response.status_code != 200:
        return None  # not protected, or the token may not read protection: try the rulesets
    reviews = response.json().get("required_pull_request_reviews")
    if not isinstance(reviews, dict):
        return None
    return int(reviews.get("required_approving_review_count", 0))


def _from_rulesets(api: Api, repo: str, branch: str) -> int | None:
    counts = [
        int((rule.get("parameters") or {}).get("required_approving_review_count", 0))
        for rule in api.pages(f"/repos/{repo}/rules/branches/{quote(branch, safe='')}", params={"per_page": 100})
        if isinstance(rule, dict) and rule.get("type") == "pull_request"
    ]
    return max(counts) if counts else None
