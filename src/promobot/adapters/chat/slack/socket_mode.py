"""Socket Mode: the same Bolt app over a websocket Slack opens for us (no public URL), when an app token is set."""

from __future__ import annotations

import contextlib
import socket

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
        handler, self._handler = self._handler, None
        if handler is None:
            return
        client = handler.client
        client.auto_reconnect_enabled = False
        sock = client.current_session.sock if client.current_session is not None else None
        if sock is not None:  # wake the thread blocked reading (else closing waits out its 3 s read timeout)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        handler.close()  # type: ignore[no-untyped-call]
