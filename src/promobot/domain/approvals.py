"""Whether a promotion waiting for approval may go on: promobot's rule and the forge's, both met.

promobot's rule (the environment's `approval`): enough approvals by people with an approver role, never the
requester. They come from chat (`approve`) and from forge reviews whose login maps to such a person. The
forge's rule (branch protection, rulesets, approval rules) counts its own approvals; the embedded forge
has none and requires none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from promobot.domain.people import User
from promobot.domain.pipeline import Environment


@dataclass(frozen=True)
class Decision:
    approvers: list[str]  # promobot users whose approval counts, in order
    needed: int
    forge_approvals: int
    forge_needed: int

    @property
    def approved(self) -> bool:
        return len(self.approvers) >= self.needed and self.forge_approvals >= self.forge_needed

    def summary(self) -> str:
        parts = [f"{len(self.approvers)} of {self.needed} approvals"]
        if self.approvers:
            parts[0] += f" ({', '.join(self.approvers)})"
        if self.forge_needed:
            parts.append(f"{self.forge_approvals} of {self.forge_needed} on the pull request")
        return "; ".join(parts)


def waiting_message(operation_id: int | None, pr_number: int | None, env: Environment, decision: Decision) -> str:
    """What a promotion waiting for approval says: where it stands and how to approve it."""
    roles = ", ".join(sorted(env.approval.approvers))
    if not decision.approvers and not decision.forge_approvals:
        return (
            f"pull request #{pr_number} open; needs {env.approval.approvals} approval(s) from {roles}: "
            f"`promobot approve {operation_id}`"
        )
    return f"pull request #{pr_number}: {decision.summary()}; approvers: {roles}: `promobot approve {operation_id}`"


def decide(
    *,
    env: Environment,
    requester: str,
    chat_approvals: Sequence[str],
    forge_approvals: Sequence[str],
    forge_required: int,
    people_by_login: Mapping[str, User],
) -> Decision:
    counted = list(dict.fromkeys(chat_approvals))
    for login in forge_approvals:
        person = people_by_login.get(login)
        if person is None or person.name == requester or not person.has_any(env.approval.approvers):
            continue
        if person.name not in counted:
            counted.append(person.name)
    return Decision(counted, env.approval.approvals, len(forge_approvals), forge_required)
