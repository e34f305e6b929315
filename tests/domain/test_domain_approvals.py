"""The approval decision: promobot's rule and the forge's rule, both met."""

from __future__ import annotations

from promobot.domain.approvals import decide
from promobot.domain.people import User
from promobot.domain.pipeline import Approval, ApprovalRule, Environment

PROD = Environment(
    "prod", "prod", "prod", approval=Approval(ApprovalRule.PULL_REQUEST, 2, frozenset({"release-manager"}))
)
PEOPLE = {
    "ana-gh": User("ana", frozenset({"release-manager"})),
    "bo-gh": User("bo", frozenset({"release-manager"})),
    "dev-gh": User("dev", frozenset({"developer", "release-manager"})),
    "eve-gh": User("eve", frozenset({"developer"})),
}


def _decide(chat: list[str], forge: list[str], required: int = 0) -> tuple[bool, list[str]]:
    d = decide(
        env=PROD,
        requester="dev",
        chat_approvals=chat,
        forge_approvals=forge,
        forge_required=required,
        people_by_login=PEOPLE,
    )
    return d.approved, d.approvers


def test_chat_and_forge_approvals_of_allowed_people_add_up_once_each() -> None:
    assert _decide(["ana"], ["ana-gh", "bo-gh"]) == (True, ["ana", "bo"])


def test_the_requester_and_people_without_the_role_never_count_even_through_the_forge() -> None:
    assert _decide([], ["dev-gh", "eve-gh", "ana-gh"]) == (False, ["ana"])


def test_unknown_forge_logins_count_for_the_forges_rule_but_not_for_promobots() -> None:
    assert _decide(["ana", "bo"], ["stranger"], required=2) == (False, ["ana", "bo"])
    assert _decide(["ana", "bo"], ["stranger", "ana-gh"], required=2) == (True, ["ana", "bo"])
