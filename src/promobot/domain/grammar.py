"""The chat grammar: one parser for Slack, the console chat and the dashboard's command box.

Accepted forms: `/promote <artifact> [env]`, `/rollback <artifact|app> [env]`, `/list`,
`/diff <src_env> <dst_env> [app]`, `/lock <env> [reason]`, `/unlock <env>`, `/locks`,
`/promobot help|approve N|status N|history APP ENV|<any of those>`,
the same words without a slash, and the same words after an @-mention (`<@U123> promote ...`).
`parse` returns one imperative command value or raises InvalidCommand whose hint is the usage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from promobot.domain import errors
from promobot.domain.artifacts import check_name, parse_ref

MAX_LENGTH = 500
MAX_ID = 10**12
BOT = "promobot"
MENTION = re.compile(r"^(<@[A-Z0-9]+(\|[^>]*)?>|@[a-z0-9_.-]+)\s*")


@dataclass(frozen=True)
class Promote:
    artifact: str
    env: str | None = None


@dataclass(frozen=True)
class Rollback:
    target: str
    env: str | None = None


@dataclass(frozen=True)
class List:
    pass


@dataclass(frozen=True)
class Diff:
    src: str
    dst: str
    app: str | None = None


@dataclass(frozen=True)
class Approve:
    operation: int


@dataclass(frozen=True)
class Status:
    operation: int


@dataclass(frozen=True)
class History:
    app: str
    env: str


@dataclass(frozen=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True)
class Lock:
    env: str
    reason: str = ""


@dataclass(frozen=True)
class Unlock:
    env: str


@dataclass(frozen=True)
class Locks:
    pass


Command = Promote | Rollback | List | Diff | Approve | Status | History | Help | Lock | Unlock | Locks

USAGE: dict[str, str] = {
    "promote": "/promote ARTIFACT [ENV]  (ARTIFACT: web:dev-1a2b3c4, dev-1a2b3c4, a SHA prefix or web@qa)",
    "rollback": "/rollback ARTIFACT|APP [ENV]  (an app needs ENV: /rollback web qa)",
    "list": "/list  (what runs where)",
    "diff": "/diff SRC_ENV DST_ENV [APP]  (commits, files and the command that brings DST up to SRC)",
    "approve": "/promobot approve OPERATION  (someone else's promotion waiting for approval)",
    "status": "/promobot status OPERATION",
    "history": "/promobot history APP ENV",
    "lock": "/lock ENV [REASON]  (release freeze: no promotions into ENV until unlocked)",
    "unlock": "/unlock ENV",
    "locks": "/locks  (which environments are locked, by whom, since when and why)",
    "help": "/promobot help [COMMAND]",
}


def usage(topic: str | None = None) -> str:
    """The usage of one command, or of all of them, one per line."""
    if topic in USAGE:
        return USAGE[topic]
    return "\n".join(USAGE.values())


def parse(text: str) -> Command:
    """Parse one line a person typed; raise InvalidCommand (hint: the usage) when it is not a command."""
    words, mentioned = _words(text)
    if mentioned and not words:  # a bare @-mention asks for help
        return Help()
    if words and words[0] == BOT:  # `/promobot ...`, `promobot ...`, `@promobot ...`
        words = words[1:]
        if not words:
            return Help()
    if not words:
        raise errors.InvalidCommand("say what to do", usage())
    verb, args = words[0], words[1:]
    parser = _PARSERS.get(verb)
    if parser is None:
        shown = verb if len(verb) <= 30 else verb[:30] + "…"
        raise errors.InvalidCommand(f"{shown!r} is not a promobot command", usage())
    try:
        return parser(args)
    except errors.InvalidReference as exc:
        raise errors.InvalidCommand(f"{verb}: {exc.message}", f"usage: {USAGE[verb]}") from None


def parse_slash(command: str, text: str) -> Command:
    """A Slack slash command arrives as the command (`/promote`) and the text after it."""
    return parse(f"{command} {text}")


def _words(text: str) -> tuple[list[str], bool]:
    if len(text) > MAX_LENGTH:
        raise errors.InvalidCommand(f"a command is at most {MAX_LENGTH} characters", usage())
    value = text.strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value.replace("\t", " ")):
        raise errors.InvalidCommand("a command is one line of printable text", usage())
    mention = MENTION.match(value)
    if mention:
        value = value[mention.end() :]
    words = value.split()
    if words:
        words[0] = words[0].removeprefix("/").lower()
    return words, mention is not None


def _count(verb: str, args: list[str], least: int, most: int) -> None:
    if not least <= len(args) <= most:
        raise errors.InvalidCommand(
            f"{verb} takes {least if least == most else f'{least} to {most}'} word(s), got {len(args)}",
            f"usage: {USAGE[verb]}",
        )


def _env(value: str) -> str:
    return check_name("environment", value)


def _id(verb: str, value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 0 < int(value) < MAX_ID:
        raise errors.InvalidCommand(f"{value[:30]!r} is not an operation number", f"usage: {USAGE[verb]}")
    return int(value)


def _promote(args: list[str]) -> Command:
    _count("promote", args, 1, 2)
    parse_ref(args[0])
    return Promote(args[0], _env(args[1]) if len(args) > 1 else None)


def _rollback(args: list[str]) -> Command:
    _count("rollback", args, 1, 2)
    parse_ref(args[0], allow_bare_app=True)
    return Rollback(args[0], _env(args[1]) if len(args) > 1 else None)


def _list(args: list[str]) -> Command:
    _count("list", args, 0, 0)
    return List()


def _diff(args: list[str]) -> Command:
    _count("diff", args, 2, 3)
    app = check_name("app", args[2]) if len(args) > 2 else None
    return Diff(_env(args[0]), _env(args[1]), app)


def _approve(args: list[str]) -> Command:
    _count("approve", args, 1, 1)
    return Approve(_id("approve", args[0]))


def _status(args: list[str]) -> Command:
    _count("status", args, 1, 1)
    return Status(_id("status", args[0]))


def _history(args: list[str]) -> Command:
    _count("history", args, 2, 2)
    return History(check_name("app", args[0]), _env(args[1]))


def _help(args: list[str]) -> Command:
    _count("help", args, 0, 1)
    topic = args[0].removeprefix("/").lower() if args else None
    return Help(topic if topic in USAGE else None)


def _lock(args: list[str]) -> Command:
    if not args:
        raise errors.InvalidCommand("lock takes an environment, then an optional reason", f"usage: {USAGE['lock']}")
    return Lock(_env(args[0]), " ".join(args[1:]))


def _unlock(args: list[str]) -> Command:
    _count("unlock", args, 1, 1)
    return Unlock(_env(args[0]))


def _locks(args: list[str]) -> Command:
    _count("locks", args, 0, 0)
    return Locks()


_PARSERS = {
    "promote": _promote,
    "rollback": _rollback,
    "list": _list,
    "diff": _diff,
    "approve": _approve,
    "status": _status,
    "history": _history,
    "help": _help,
    "lock": _lock,
    "unlock": _unlock,
    "locks": _locks,
}
