"""The Bolt app: slash commands, button clicks and @-mentions, acknowledged at once and handled after.

`start` checks the bot token with Slack once (`auth.test`); Bolt is then told who the bot is from that answer
for every request, so no request ever waits on Slack (Bolt alone would call `auth.test` on the first one).
`handle_http` verifies the v0 signature (5-minute window) before anything else, refuses a body Bolt would trip
on (`shapes`) with a 400, then lets Bolt dispatch.
Each listener acks (Slack wants it within 3 s) in the dispatching thread and queues the rest on the bot's
own worker threads, so `handle_http` never blocks (the web layer calls it on its event loop) and an ack
never waits for the database, git or Slack: there the caller is told it is
being worked on (a slash command's ack says it; a click or a mention gets an ephemeral message, not repeated
for Slack's retries), the words go to `ports.ChatCommands`, and the reply goes to the caller alone. The
delivery key it passes is the same for a retried event (its `event_id`) and for a double click (user,
message, button, value). `stop` lets queued work finish and ends the workers.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog
from slack_bolt import Ack, App, BoltRequest
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.context import BoltContext
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from promobot import ports
from promobot.adapters.chat.slack import shapes
from promobot.adapters.chat.slack.web_api import SlackChat
from promobot.domain import errors

log = structlog.get_logger(__name__)
COMMANDS = re.compile(r"^/(promote|rollback|list|diff|promobot)$")  # one listener: Bolt tries each in turn
ACTIONS = re.compile(r"^promobot\.")
WORKERS = 4  # commands handled at once after their acks; more wait in order (fewer threads, quicker acks)
Reply = Callable[[ports.ChatMessage], None]


class _Clock:
    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now


class SlackBot:
    def __init__(
        self,
        *,
        signing_secret: str,
        chat: SlackChat,
        commands: ports.ChatCommands,
        working: ports.ChatMessage,
        failed: ports.ChatMessage,
        now: Callable[[], float] = time.time,
        workers: int = WORKERS,
    ) -> None:
        self._verifier = SignatureVerifier(signing_secret, clock=_Clock(now))  # type: ignore[arg-type]
        self._chat = chat
        self._commands = commands
        self._working = working
        self._failed = failed
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="slack-work")
        self._authorize = _FromStartUp(chat.client.token)
        self.app = App(
            signing_secret=signing_secret,
            # Bolt's own client has no token (it would call auth.test on the first request); `_FromStartUp`
            # hands it the bot token. Socket Mode opens its connection through it with the app token.
            client=WebClient(base_url=chat.client.base_url, timeout=chat.client.timeout),
            authorize=self._authorize,
            process_before_response=True,  # listeners run in the caller's thread: they only ack and queue
            logger=logging.getLogger("promobot.slack.bolt"),
        )
        self.app.command(COMMANDS)(self._slash)
        self.app.action(ACTIONS)(self._click)
        self.app.event("app_mention")(self._mention)

    def handle_http(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, str], str]:
        """One HTTP request from Slack: 401 unless correctly signed within five minutes, else Bolt's answer."""
        try:  # Slack sends UTF-8; the verifier would fail on anything else, signed or not
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return 400, {"content-type": "text/plain"}, "the body is not UTF-8 text"
        if not self._verifier.is_valid_request(text, dict(headers)):
            return 401, {"content-type": "text/plain"}, "invalid or stale Slack signature"
        try:  # Bolt reads the body as it builds the request: JSON or a form, with a JSON object in it
            request = BoltRequest(body=text, headers=dict(headers))
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            request = None
        if request is None or not shapes.readable(request.body):
            return 400, {"content-type": "text/plain"}, "the body is not a Slack request"
        answer = self.app.dispatch(request)
        return answer.status, answer.first_headers_without_set_cookie(), answer.body

    def start(self) -> None:
        """Check the bot token with Slack once, before any request; a failure is one log line, not fatal.

        Slash commands and clicks are still answered through their response URLs (which need no token);
        messages to channels fail until the token is fixed. The worker threads start with the first command.
        """
        try:
            found = self._chat.identity()
        except errors.PromobotError as exc:
            log.error("Slack bot token check failed at start-up", problem=exc.message, hint="check slack.bot_token")
            return
        self._authorize.identity = found
        log.info("Slack bot token checked", team=found.get("team_id"), bot_user=found.get("user_id"))

    def stop(self) -> None:
        """Finish the work already queued, then stop the worker threads."""
        self._pool.shutdown(wait=True)

    # --- listeners (Bolt injects arguments by name) ---------------------------------------------------
    def _slash(self, ack: Ack, command: dict[str, Any]) -> None:
        ack(text=self._working.text)
        url = str(command.get("response_url", ""))
        request = ports.ChatRequest(
            chat_user=str(command.get("user_id", "")),
            channel=str(command.get("channel_id", "")),
            text=f"{command.get('command', '')} {command.get('text', '')}",
            delivery=f"slash:{command.get('trigger_id', '')}" if command.get("trigger_id") else "",
        )
        self._queue(request, lambda message: self._chat.respond(url, message))

    def _click(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = str(body.get("user", {}).get("id", ""))
        channel = str(body.get("channel", {}).get("id", ""))
        message_ts = str(body.get("container", {}).get("message_ts", ""))
        url = str(body.get("response_url", ""))
        value = str(action.get("value", ""))
        reply: Reply = (
            (lambda m: self._chat.respond(url, m)) if url else (lambda m: self._chat.ephemeral(channel, user, m))
        )
        key = f"click:{user}:{message_ts}:{action.get('action_id', '')}:{value}"
        self._queue(ports.ChatRequest(user, channel, value, key), reply, working=True)

    def _mention(self, ack: Ack, body: dict[str, Any], event: dict[str, Any], request: BoltRequest) -> None:
        ack()
        user, channel = str(event.get("user", "")), str(event.get("channel", ""))
        key = f"event:{body.get('event_id', '')}" if body.get("event_id") else ""

        def reply(message: ports.ChatMessage) -> None:
            self._chat.ephemeral(channel, user, message)

        working = not _retried(request)  # the first delivery told the caller already
        self._queue(ports.ChatRequest(user, channel, str(event.get("text", "")), key), reply, working=working)

    def _queue(self, request: ports.ChatRequest, reply: Reply, *, working: bool = False) -> None:
        self._pool.submit(self._work, request, reply, working)

    def _work(self, request: ports.ChatRequest, reply: Reply, working: bool) -> None:
        if working:
            self._quietly(reply, self._working)
        try:
            answer = self._commands.handle(request)
        except Exception:
            log.exception("chat command crashed", chat_user=request.chat_user)
            answer = self._failed
        self._quietly(reply, answer)

    def _quietly(self, reply: Reply, message: ports.ChatMessage) -> None:
        try:
            reply(message)
        except Exception as exc:  # Slack unreachable after retries: the server goes on
            log.warning("reply to Slack failed", error=str(exc))


class _FromStartUp(Authorize):
    """Bolt's authorization of each request, from the start-up check (`auth.test`): never calls Slack."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self.identity: dict[str, Any] = {}  # auth.test's answer, once `start` has it

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            bot_token=self.token,
            bot_id=self.identity.get("bot_id"),
            bot_user_id=self.identity.get("user_id"),  # Bolt ignores events the bot itself caused
        )


def _retried(request: BoltRequest) -> bool:
    """Whether Slack delivers this event again (HTTP's X-Slack-Retry-Num, Socket Mode's retry_attempt)."""
    found = request.headers.get("x-slack-retry-num") or ["0"]
    return found[0] not in ("", "0")
