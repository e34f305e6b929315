"""Chat messages: Block Kit within Slack's limits, the right buttons per state, and the same facts as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from promobot.domain import errors
from promobot.domain.operations import Kind, Operation, OperationEvent, State, Step
from promobot.domain.pipeline import App, Pipeline
from promobot.messages import blocks, board, diffs, operations, replies
from promobot.service.queries import Diff, Row
from support.fakes import ENVS

PIPELINE = Pipeline(ENVS, (App("web", "https://forge.example/web.git", "registry.example/web"),))
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _op(**changes: Any) -> Operation:
    values: dict[str, Any] = dict(
        kind=Kind.PROMOTE,
        app="web",
        env="qa",
        artifact="web:dev-1a2b3c4",
        requested_by="developer",
        target_tag="qa-1a2b3c4",
        id=7,
        state=State.RUNNING,
        step=Step.AWAITING_ARTIFACT,
        message="waiting for CI",
    )
    values.update(changes)
    return Operation(**values)


def _buttons(message: Any) -> dict[str, str]:
    return {
        element["text"]["text"]: element["value"]
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }


def test_a_running_operation_shows_its_step_artifact_env_and_requester() -> None:
    message = operations.operation(_op(), PIPELINE)
    assert "building" in message.text and "web:dev-1a2b3c4 → qa" in message.text
    assert "developer" in message.text and "#7" in message.text
    assert _buttons(message) == {"View diff": "diff qa staging web"}


def test_a_succeeded_operation_offers_promote_to_the_next_env_rollback_and_diff() -> None:
    message = operations.operation(_op(state=State.SUCCEEDED, step=Step.DONE), PIPELINE)
    assert _buttons(message) == {
        "Promote to staging": "promote web:qa-1a2b3c4 staging",
        "Rollback": "rollback web qa",
        "View diff": "diff qa staging web",
    }


def test_an_operation_awaiting_approval_offers_approve_and_links_its_pull_request() -> None:
    op = _op(env="prod", state=State.AWAITING_APPROVAL, step=Step.PR_OPEN, pr_number=3, pr_url="http://127.0.0.1/pr/3")
    message = operations.operation(op, PIPELINE)
    assert _buttons(message) == {"Approve": "approve 7", "View diff": "diff staging prod web"}
    assert "<http://127.0.0.1/pr/3|#3>" in str(message.blocks)
    assert "awaiting approval" in message.text


def test_text_people_wrote_cannot_mention_or_link_in_blocks() -> None:
    message = operations.operation(_op(message="<!channel> see <http://evil|here>"), PIPELINE)
    assert "<!channel>" not in str(message.blocks) and "&lt;!channel&gt;" in str(message.blocks)


def test_a_thread_reply_names_the_step_and_its_message() -> None:
    event = OperationEvent(7, State.RUNNING, Step.DEPLOYING, "pinned web:qa-1a2b3c4; deploying", NOW)
    assert operations.step(event).text == "deploying: pinned web:qa-1a2b3c4; deploying"


def test_the_board_is_one_block_per_app_with_a_field_per_environment() -> None:
    rows = [
        Row("web", "development", "web:dev-1a2b3c4", "1a2b3c4" * 5, "healthy", NOW - timedelta(minutes=3), "dana", ""),
        Row("web", "qa", "", "", "none", None, "", ""),
    ]
    message = board.board(rows, NOW)
    sections = [b for b in message.blocks if "fields" in b]
    assert len(sections) == 1 and len(sections[0]["fields"]) == 2
    assert "`dev-1a2b3c4` healthy\n3m ago · dana" in sections[0]["fields"][0]["text"]
    assert "web:dev-1a2b3c4" in message.text and "3m ago" in message.text


def test_a_long_diff_is_shortened_with_the_count_and_ends_with_the_next_command() -> None:
    commits = [(f"{i:040x}", f"Change {i}") for i in range(50)]
    diff = Diff(
        "web", "development", "qa", "web:dev-1a2b3c4", "", "a" * 40, "", commits, 73, 0,
        [f"f{i}.py" for i in range(40)], "promobot promote web:dev-1a2b3c4 qa (direct)",
    )  # fmt: skip
    message = diffs.diffs([diff])
    assert "73 commit(s)" in message.text and "… and 63 more" in message.text
    assert "40 file(s) changed" in message.text and "and 25 more" in message.text
    assert message.text.endswith("next: /promote web:dev-1a2b3c4 qa (direct)")
    assert _buttons(message) == {"Promote to qa": "promote web:dev-1a2b3c4 qa"}
    assert all(len(b["text"]["text"]) <= blocks.SECTION_TEXT for b in message.blocks if b["type"] == "section")


def test_a_message_never_exceeds_fifty_blocks() -> None:
    many = [blocks.section(str(i)) for i in range(80)]
    message = blocks.message("x", many)
    assert len(message.blocks) == blocks.MAX_BLOCKS
    assert "31 more block(s)" in str(message.blocks[-1])


def test_section_text_is_clipped_to_three_thousand_characters() -> None:
    assert len(blocks.section("x" * 5000)["text"]["text"]) == blocks.SECTION_TEXT


def test_a_refusal_says_what_was_wrong_and_what_would_be_right() -> None:
    message = replies.refusal(errors.NotAllowed("developer may not approve", "that takes release-manager"))
    assert message.text == "Refused: developer may not approve\nthat takes release-manager"


def test_help_shows_every_command() -> None:
    assert "/promote" in replies.help_text().text and "/diff" in replies.help_text().text
