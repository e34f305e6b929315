"""Slack's Web API and response URLs as `ports.Chat`, with 429s and server errors retried a bounded number of times.

`identity` asks `auth.test` who the bot token belongs to (once, when the Slack app starts). Messages and
thread replies posted with a key carry it as message metadata (`metadata.py`); `find`
(conversations.history) and `thread` (conversations.replies) read it back.

A 429 waits what `Retry-After` says (capped); other temporary failures back off. After the last attempt a
TemporaryError is raised; a refusal (`channel_not_found`, `not_in_channel`, ...) is a PermanentError at once.
This loop stays apart from `http_calls.send`: slack_sdk's WebClient and WebhookClient send through urllib, not
httpx, and Slack says "try later" in an answer's `error` (`ratelimited`, `service_unavailable`) as well as in
its status, so what is retried is read from slack_sdk's SlackApiError rather than from an httpx response.
Thread-safe: each call is its own HTTP request (permalinks, which never change, are cached under a lock).
The token is never logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from promobot import ports
from promobot.adapters.chat.slack import metadata
from promobot.domain import errors

PERMALINKS = 10_000  # cached at most; the cache starts over when full
HISTORY = 200  # how many of a channel's newest messages `find` looks through (and a thread's, per page)
TEMPORARY = {"ratelimited", "service_unavailable", "internal_error", "request_timeout", "fatal_error"}


class SlackChat:
    def __init__(
        self,
        token: str,
        *,
        base_url: str = WebClient.BASE_URL,
        attempts: int = 4,
        max_wait: float = 30.0,
        timeout: int = 10,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = WebClient(token=token, base_url=base_url, timeout=timeout)
        self._attempts = attempts
        self._max_wait = max_wait
        self._timeout = timeout
        self._sleep = sleep
        self._permalinks: dict[tuple[str, str], str] = {}
        self._channels: dict[str, str] = {}  # "#name" -> channel id
        self._lock = threading.Lock()

    def post(self, channel: str, message: ports.ChatMessage, *, key: str = "") -> ports.Posted:
        body = {"channel": channel, **_body(message), **metadata.marked(key)}  # `find` reads it back
        found = self._call("chat.postMessage", body)
        return ports.Posted(str(found.get("channel", channel)), str(found["ts"]))

    def find(self, channel: str, key: str) -> ports.Posted | None:
        """Among the channel's `HISTORY` newest messages, the one posted with `key` (conversations.history)."""
        channel_id = self._channel_id(channel)
        answer = self._call(
            "conversations.history",
            {"channel": channel_id, "limit": str(HISTORY), "include_all_metadata": "true"},
            verb="GET",
        )
        for found in answer.get("messages") or []:
            if metadata.key_of(found) == key:
                return ports.Posted(channel_id, str(found["ts"]))
        return None

    def thread(self, channel: str, thread_ts: str) -> list[ports.Replied]:
        """The thread's replies with their keys, oldest first (conversations.replies, every page; the
        parent message, which Slack lists first, left out)."""
        replies: list[ports.Replied] = []
        cursor = ""
        while True:
            query = {"channel": channel, "ts": thread_ts, "limit": str(HISTORY), "include_all_metadata": "true"}
            query.update({"cursor": cursor} if cursor else {})
            answer = self._call("conversations.replies", query, verb="GET")
            for found in answer.get("messages") or []:
                if str(found.get("ts")) != thread_ts:
                    replies.append(ports.Replied(str(found["ts"]), metadata.key_of(found)))
            cursor = str((answer.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor or not answer.get("has_more", True):
                return replies

    def _channel_id(self, channel: str) -> str:
        """A channel's id: as configured, or looked up by name for `#name` (conversations.list, cached)."""
        if not channel.startswith("#"):
            return channel
        with self._lock:
            known = self._channels.get(channel)
        if known:
            return known
        cursor = ""
        while True:
            query = {"types": "public_channel,private_channel", "exclude_archived": "true", "limit": "1000"}
            answer = self._call("conversations.list", {**query, **({"cursor": cursor} if cursor else {})}, verb="GET")
            for found in answer.get("channels") or []:
                if f"#{found.get('name', '')}" == channel:
                    with self._lock:
                        self._channels[channel] = str(found["id"])
                    return str(found["id"])
            cursor = str((answer.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                raise errors.PermanentError(f"Slack has no channel {channel} this bot can see")

    def update(self, channel: str, ts: str, message: ports.ChatMessage) -> None:
        self._call("chat.update", {"channel": channel, "ts": ts, **_body(message)})

    def reply(self, channel: str, thread_ts: str, message: ports.ChatMessage, *, key: str = "") -> ports.Posted:
        """A keyed line is sent once, not retried: a failed answer may hide a line that was posted, and the
        reporter reads the thread before it tries again (a retry here would post a second copy)."""
        body = {"channel": channel, "thread_ts": thread_ts, **_body(message), **metadata.marked(key)}
        found = self._call("chat.postMessage", body, attempts=1 if key else None)
        return ports.Posted(str(found.get("channel", channel)), str(found["ts"]))

    def delete(self, channel: str, ts: str) -> None:
        try:
            self._call("chat.delete", {"channel": channel, "ts": ts})
        except errors.PermanentError as exc:
            if "message_not_found" not in str(exc):  # deleted already (by another replica): done
                raise

    def ephemeral(self, channel: str, user: str, message: ports.ChatMessage) -> None:
        self._call("chat.postEphemeral", {"channel": channel, "user": user, **_body(message)})

    def identity(self) -> dict[str, Any]:
        """`auth.test`: the workspace, bot user and bot the token belongs to; PermanentError if Slack refuses it."""
        return self._call("auth.test", {})

    def permalink(self, channel: str, ts: str) -> str:
        """The message's link from `chat.getPermalink`, asked once (a page waits on it, so no retries)."""
        with self._lock:
            found = self._permalinks.get((channel, ts))
        if found is not None:
            return found
        answer = self._call("chat.getPermalink", {"channel": channel, "message_ts": ts}, verb="GET", attempts=1)
        link = str(answer.get("permalink", ""))
        link = link if link.startswith(("https://", "http://")) else ""
        with self._lock:
            if len(self._permalinks) >= PERMALINKS:
                self._permalinks.clear()
            self._permalinks[(channel, ts)] = link
        return link

    def respond(self, response_url: str, message: ports.ChatMessage) -> None:
        """Answer the caller alone through the response URL of a slash command or a click."""
        hook = WebhookClient(response_url, timeout=self._timeout)
        body = {"response_type": "ephemeral", "replace_original": False, **_body(message)}
        for attempt in range(1, self._attempts + 1):
            try:
                answer = hook.send_dict(body)
            except (URLError, OSError) as exc:
                self._wait_or_give_up(attempt, 1.0, f"response_url unreachable ({type(exc).__name__})")
                continue
            if answer.status_code < 300:
                return
            if answer.status_code != 429 and answer.status_code < 500:
                raise errors.PermanentError(f"Slack refused the response: {answer.status_code} {answer.body[:100]}")
            self._wait_or_give_up(attempt, _retry_after(answer.headers), f"response_url answered {answer.status_code}")

    def _call(
        self, method: str, payload: dict[str, Any], *, verb: str = "POST", attempts: int | None = None
    ) -> dict[str, Any]:
        bound = attempts or self._attempts
        for attempt in range(1, bound + 1):
            try:
                if verb == "GET":
                    answer = self.client.api_call(method, http_verb="GET", params=payload)
                else:
                    answer = self.client.api_call(method, json=payload)
                return dict(answer.data)  # type: ignore[arg-type]
            except SlackApiError as exc:
                status, error = exc.response.status_code, str(exc.response.get("error", ""))
                if status != 429 and status < 500 and error not in TEMPORARY:
                    raise errors.PermanentError(f"Slack {method} failed: {error or status}") from None
                wait = _retry_after(exc.response.headers)
                self._wait_or_give_up(attempt, wait, f"Slack {method}: {error or status}", bound)
            except (URLError, OSError) as exc:
                self._wait_or_give_up(attempt, 1.0, f"Slack {method} unreachable ({type(exc).__name__})", bound)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_or_give_up(self, attempt: int, wait: float, what: str, bound: int | None = None) -> None:
        if attempt >= (bound or self._attempts):
            raise errors.TemporaryError(f"{what}; gave up after {attempt} attempts", retry_after=wait)
        self._sleep(min(max(wait, 0.0), self._max_wait))


def _body(message: ports.ChatMessage) -> dict[str, Any]:
    body: dict[str, Any] = {"text": message.text[:3000]}
    if message.blocks:
        body["blocks"] = list(message.blocks)
    return body


def _retry_after(headers: Mapping[str, Any] | None) -> float:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            text = value[0] if isinstance(value, list) else value
            try:
                return float(text)
            except (TypeError, ValueError):
                return 1.0
    return 1.0
