"""`promobot chat`: typed lines go to a running server; answers print as text; an operation is followed."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from rich.console import Console

from promobot.cli import chatting
from promobot.client import Client
from support.fake_slack import FakeSlack
from support.fakes import make_context
from support.slack_server import SlackServer


def test_the_console_chat_prints_answers_and_follows_an_operation_to_its_end(tmp_path: Path) -> None:
    ctx, world = make_context(tmp_path / "world")
    slack = FakeSlack().start()
    server = SlackServer(ctx, tmp_path / "server", slack).start()
    server.application.tokens["token-of-developer"] = ctx.users["developer"]
    try:
        built = world.developed(ctx)
        console = Console(file=io.StringIO(), width=200)

        def engine() -> None:  # the world moves while the chat follows
            world.settle(ctx)
            world.builder.complete(ctx)
            world.settle(ctx)
            world.report(ctx, "qa")
            world.settle(ctx)

        moving = threading.Timer(0.5, engine)
        moving.start()
        lines = ["/promobot help", "/promote --force", f"/promote web:{built.tag}", "quit", "/list"]
        chatting.run(Client(server.url, "token-of-developer"), lines, console, poll=0.05, timeout=20)
        moving.join()
        printed = console.file.getvalue()  # type: ignore[attr-defined]
    finally:
        server.stop()
        slack.stop()
        world.close()
    assert "/promote ARTIFACT [ENV]" in printed
    assert "Refused: promote:" in printed
    assert f"operation #2 started: Promote web:{built.tag} → qa" in printed
    assert "#2 succeeded (done)" in printed.splitlines()[-1]
    assert "What runs where" not in printed and "development" not in printed.split("#2 succeeded")[-1]
