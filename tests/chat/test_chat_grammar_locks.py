"""The chat grammar's release-freeze words: `/lock ENV [REASON]`, `/unlock ENV`, `/locks`."""

from __future__ import annotations

import pytest

from promobot.domain import errors, grammar
from promobot.domain.grammar import Lock, Locks, Unlock


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/lock qa", Lock("qa")),
        ("/lock qa release 4.2 freeze", Lock("qa", "release 4.2 freeze")),
        ("lock prod   incident  #123", Lock("prod", "incident #123")),
        ("/promobot lock qa", Lock("qa")),
        ("<@U123> unlock qa", Unlock("qa")),
        ("/unlock qa", Unlock("qa")),
        ("/locks", Locks()),
    ],
)
def test_each_lock_form_parses_to_its_command(text: str, command: grammar.Command) -> None:
    assert grammar.parse(text) == command


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("/lock", "lock takes an environment, then an optional reason"),
        ("/unlock", "unlock takes 1 word(s), got 0"),
        ("/unlock qa prod", "unlock takes 1 word(s), got 2"),
        ("/lock --force", "lock: '--force' is not a valid environment name"),
        ("/locks qa", "locks takes 0 word(s), got 1"),
    ],
)
def test_bad_lock_commands_are_refused_with_the_usage(text: str, says: str) -> None:
    with pytest.raises(errors.InvalidCommand) as refused:
        grammar.parse(text)
    assert refused.value.message == says
    assert refused.value.hint.startswith("usage: /")


def test_help_lists_the_lock_commands() -> None:
    usage = grammar.usage()
    assert "/lock ENV [REASON]" in usage and "/unlock ENV" in usage and "/locks" in usage
