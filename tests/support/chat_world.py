"""What the tests of an operation's chat message and thread share: a fake Slack, a context on a fresh database
of each kind (restarted, as a replica or a new process would be), and the reporter's channels."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from promobot.adapters.chat.slack.web_api import SlackChat
from promobot.service import reporting
from promobot.service.context import Context
from support import databases
from support.fake_slack import FakeSlack
from support.fakes import World, make_context

CHANNELS = reporting.Channels("#deploys", envs={"prod": "#prod"})


class Killed(BaseException):
    """The process died at a fault point (nothing after it runs, nothing is cleaned up)."""


@contextmanager
def world_on(kind: str, root: Path) -> Iterator[tuple[Context, World]]:
    """A restarted context and its world on a fresh `kind` database under `root`."""
    with databases.fresh(kind, root / "db") as url:
        _, world = make_context(root / "world")
        world.url = url
        try:
            yield world.context(restart=True), world
        finally:
            world.close()


def slack_chat(slack: FakeSlack) -> SlackChat:
    """The Slack adapter talking to the fake, retrying once without sleeping."""
    return SlackChat("xoxb-test", base_url=slack.base_url, attempts=2, sleep=lambda _: None)
