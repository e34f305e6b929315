"""Socket Mode: the same Bolt app over a websocket Slack opens for us (no public URL), when an app token is set."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode import SocketModeHandler

from promobot.adapters.chat.slack.bot import SlackBot


class SocketModeRunner:
    def __init__(self, bot: SlackBot, app_token: str) -> None:
        self._bot = bot
        self._app_token = app_token
        self._handler: SocketModeHandler | None = None

    def start(self) -> None:
        self._handler = SocketModeHandler(self._bot.app, self._app_token)
        self._handler.connect()  # type: ignore[no-untyped-call] # returns at once; the client runs on its own threads

    def stop(self) -> None:
        if self._handler is not None:
            self._handler.close()  # type: ignore[no-untyped-call]
            self._handler = None
