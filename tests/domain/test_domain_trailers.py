"""Commit-message trailers: what promobot writes on its commits reads back the same."""

from __future__ import annotations

import pytest

from promobot.domain import trailers

FULL = {
    trailers.SOURCE: "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
    trailers.ARTIFACT: "web:dev-1a2b3c4",
    trailers.OPERATION: "42",
    trailers.KIND: "promote",
}


def test_render_puts_subject_body_and_trailer_block_in_paragraphs() -> None:
    message = trailers.render("Promote web to qa", {trailers.OPERATION: "42"}, body="Asked by alice.")
    assert message == "Promote web to qa\n\nAsked by alice.\n\nPromobot-Operation: 42\n"


def test_render_without_a_body_has_just_subject_and_trailers() -> None:
    assert trailers.render("  Subject  ", {"A": "1", "B": "2"}) == "Subject\n\nA: 1\nB: 2\n"


@pytest.mark.parametrize("body", ["", "One line.", "Line one\nline two", "Para one.\n\nPara two.", "  padded  \n"])
def test_rendered_trailers_parse_back_unchanged(body: str) -> None:
    assert trailers.parse(trailers.render("Promote web:dev-1a2b3c4 to qa", FULL, body=body)) == FULL


def test_trailer_order_is_kept() -> None:
    parsed = trailers.parse(trailers.render("s", FULL))
    assert list(parsed) == list(FULL)


def test_a_value_containing_colon_space_parses_back_whole() -> None:
    values = {"Promobot-Note": "reason: rollback after outage"}
    assert trailers.parse(trailers.render("s", values)) == values


@pytest.mark.parametrize(
    "message",
    [
        "",
        "Subject only",
        "Subject only\n",
        "Promobot-Source: abc",  # a subject that looks like a trailer is still a subject
        "Subject\n\nA body that explains things.",
        "Subject\n\nBody line one\nPromobot-Source: abc",  # mixed paragraph: not a trailer block
        "Subject\n\nPromobot-Source: abc\n\nSigned off, nothing else.",  # trailers not last
        "Subject\n\nKey:value",  # no space after colon
        "Subject\n\nTwo words: value",  # a key cannot contain spaces
        "Subject\n\n: value",  # a key cannot be empty
    ],
)
def test_messages_without_a_trailer_block_have_no_trailers(message: str) -> None:
    assert trailers.parse(message) == {}


def test_trailers_after_a_multi_paragraph_body_are_found() -> None:
    message = "Subject\n\nWhy we did it.\n\nMore detail.\n\nPromobot-Kind: rollback\nPromobot-Operation: 9\n"
    assert trailers.parse(message) == {"Promobot-Kind": "rollback", "Promobot-Operation": "9"}


def test_extra_blank_lines_and_trailing_spaces_do_not_hide_trailers() -> None:
    message = "Subject\n\n\n\nPromobot-Kind: promote  \n\n\n"
    assert trailers.parse(message) == {"Promobot-Kind": "promote"}


def test_trailers_written_by_others_are_read_too() -> None:
    message = "Fix\n\nSigned-off-by: Alice <alice@example.com>\nPromobot-Source: abc"
    assert trailers.parse(message) == {"Signed-off-by": "Alice <alice@example.com>", "Promobot-Source": "abc"}
