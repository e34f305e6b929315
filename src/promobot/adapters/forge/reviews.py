"""What a forge says about a pull request's approval: the reviewers who approve it now and how many it needs.

Shared by the GitHub and GitLab forges. `latest_approvals` applies GitHub's rule that each reviewer's latest
deciding review counts: a later CHANGES_REQUESTED or DISMISSED cancels an earlier APPROVED, while a later
COMMENTED (or a PENDING draft) leaves the decision as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from promobot.ports import ReviewState

__all__ = ["DECIDING", "Review", "ReviewState", "latest_approvals"]

DECIDING = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})


@dataclass(frozen=True)
class Review:
    reviewer: str
    state: str  # upper case as the REST API has it; webhook states are lower case and upper-cased on the way in
    commit_id: str = ""


def latest_approvals(reviews: Iterable[Review]) -> list[str]:
    """Reviewers whose latest deciding review (in the given, chronological, order) is an approval."""
    decision: dict[str, str] = {}
    for review in reviews:
        state = review.state.upper()
        if state in DECIDING and review.reviewer:
            decision.pop(review.reviewer, None)  # re-insert so the order is that of the latest decision
            decision[review.reviewer] = state
    return [reviewer for reviewer, state in decision.items() if state == "APPROVED"]
