"""The chat grammar: every form people type parses to one command; anything else is refused with the usage."""

from __future__ import annotations

import pytest

from promobot.domain import errors, grammar
from promobot.domain.grammar import Approve, Diff, Help, History, List, Promote, Rollback, Status


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/promote web:dev-1a2b3c4", Promote("web:dev-1a2b3c4")),
        ("/promote web:dev-1a2b3c4 qa", Promote("web:dev-1a2b3c4", "qa")),
        ("promote dev-1a2b3c4 qa", Promote("dev-1a2b3c4", "qa")),
        ("/promote 1a2b3c4", Promote("1a2b3c4")),
        ("/promote web@qa prod", Promote("web@qa", "prod")),
        ("  /promote   web:dev-1a2b3c4\tqa  \n", Promote("web:dev-1a2b3c4", "qa")),
        ("/PROMOTE web:dev-1a2b3c4", Promote("web:dev-1a2b3c4")),
        ("/rollback web development", Rollback("web", "development")),
        ("/rollback web:qa-1a2b3c4", Rollback("web:qa-1a2b3c4")),
        ("/list", List()),
        ("list", List()),
        ("/diff development qa", Diff("development", "qa")),
        ("/diff development qa web", Diff("development", "qa", "web")),
        ("/promobot", Help()),
        ("/promobot help", Help()),
        ("/promobot help promote", Help("promote")),
        ("/promobot help /diff", Help("diff")),
        ("/promobot help nonsense", Help()),
        ("/promobot approve 42", Approve(42)),
        ("/promobot status 7", Status(7)),
        ("/promobot history web prod", History("web", "prod")),
        ("/promobot promote web:dev-1a2b3c4 qa", Promote("web:dev-1a2b3c4", "qa")),
        ("/promobot list", List()),
        ("<@U024BE7LH> promote web:dev-1a2b3c4 qa", Promote("web:dev-1a2b3c4", "qa")),
        ("<@U024BE7LH|promobot> approve 3", Approve(3)),
        ("<@U024BE7LH> help", Help()),
        ("@promobot rollback web qa", Rollback("web", "qa")),
        ("@promobot", Help()),
        ("<@U024BE7LH>", Help()),
    ],
)
def test_each_accepted_form_parses_to_its_command(text: str, command: grammar.Command) -> None:
    assert grammar.parse(text) == command


def test_a_slack_slash_command_joins_the_command_and_its_text() -> None:
    assert grammar.parse_slash("/promote", "web:dev-1a2b3c4 qa") == Promote("web:dev-1a2b3c4", "qa")
    assert grammar.parse_slash("/promobot", "") == Help()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "say what to do"),
        ("   ", "say what to do"),
        ("/deploy web", "not a promobot command"),
        ("/promote", "takes 1 to 2 word(s), got 0"),
        ("/promote web:dev-1a2b3c4 qa extra", "takes 1 to 2 word(s), got 3"),
        ("/promote --force", "not an artifact reference"),
        ("/promote -x qa", "not an artifact reference"),
        ("/promote web:dev-1a2b3c4 --env=prod", "not a valid environment name"),
        ("/promote web:dev-1a2b3c4 -prod", "not a valid environment name"),
        ("/promote web:dev-1a2b3c4 Prod", "not a valid environment name"),
        ("/promote web:dev-1a2b3c4 qa;rm", "not a valid environment name"),
        ("/promote $(reboot)", "not an artifact reference"),
        ("/promote web:dev-1a2b3c4\nqa", "one line of printable text"),
        ("/promote web:dev-1a2b3c4\x00", "one line of printable text"),
        ("/promote web:\x1b[31mdev", "one line of printable text"),
        ("/rollback web qa prod", "takes 1 to 2 word(s), got 3"),
        ("/rollback ../etc qa", "not an artifact reference"),
        ("/list everything", "takes 0 word(s), got 1"),
        ("/diff qa", "takes 2 to 3 word(s), got 1"),
        ("/diff qa prod web api", "takes 2 to 3 word(s), got 4"),
        ("/diff qa -prod", "not a valid environment name"),
        ("/promobot approve", "takes 1 word(s), got 0"),
        ("/promobot approve -1", "not an operation number"),
        ("/promobot approve 0", "not an operation number"),
        ("/promobot approve \uff14\uff12", "not an operation number"),
        ("/promobot approve 99999999999999999999", "not an operation number"),
        ("/promobot status x", "not an operation number"),
        ("/promobot history web", "takes 2 word(s), got 1"),
        ("/promobot history --all prod", "not a valid app name"),
        ("/promobot frobnicate", "not a promobot command"),
        ("x" * 501, "at most 500 characters"),
    ],
)
def test_bad_input_is_refused_with_the_usage(text: str, says: str) -> None:
    with pytest.raises(errors.InvalidCommand) as refused:
        grammar.parse(text)
    assert says in refused.value.message
    assert "/promote" in refused.value.hint or "usage:" in refused.value.hint


def test_a_refusal_of_one_command_shows_that_commands_usage() -> None:
    with pytest.raises(errors.InvalidCommand) as refused:
        grammar.parse("/diff qa")
    assert refused.value.hint == f"usage: {grammar.USAGE['diff']}"


def test_an_unknown_word_is_quoted_shortened_in_the_refusal() -> None:
    with pytest.raises(errors.InvalidCommand) as refused:
        grammar.parse("z" * 200)
    assert len(refused.value.message) < 80


def test_help_lists_every_command() -> None:
    text = grammar.usage()
    for verb in ("/promote", "/rollback", "/list", "/diff", "approve", "status", "history", "help"):
        assert verb in text
