"""A fake Slack Web API on loopback: a real HTTP server the real slack_sdk client talks to.

It records every `chat.*` call and every response_url post, answers `auth.test`, `chat.getPermalink` (GET)
and `apps.connections.open` (with `socket_url`, a fake Socket Mode endpoint), gives each posted message
a `ts` and keeps it (with its metadata) for `conversations.history` and, as thread replies, for
`conversations.replies` (the parent first; metadata only with `include_all_metadata`, as Slack; paged by
`limit` and `cursor`), removes a message on `chat.delete`, lists `CHANNELS` for `conversations.list`, and
can be told to answer the next calls of a method with an HTTP status (429 with Retry-After) or a Slack
error. `base_url` goes to WebClient; `response_url(n)` is a response URL pointing back here.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

CHANNELS = {"#deploys": "C0DEPLOYS", "#prod": "C0PROD"}


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.messages: list[dict[str, Any]] = []  # every chat.postMessage as posted: channel id, ts, metadata
        self.failures: dict[str, list[tuple[int, str]]] = {}  # method -> [(http status, slack error)]
        self.lost_answers: dict[str, int] = {}  # method -> how many more calls are carried out, then answered 503
        self.socket_url = ""  # what apps.connections.open answers
        self.post_delay = 0.0  # seconds each top-level chat.postMessage takes (to let reporters race)
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}/api/"

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def response_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/respond/{n}"

    def fail(self, method: str, *answers: tuple[int, str]) -> None:
        self.failures.setdefault(method, []).extend(answers)

    def of(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for name, body in self.calls if name == method]

    def wait_for(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"fake Slack never saw what the test waited for; calls: {self.calls}")

    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        status, headers, answer = self._carry_out(path, body)
        name = path.removeprefix("/api/")
        with self._lock:
            lost = self.lost_answers.get(name, 0)
            self.lost_answers[name] = max(lost - 1, 0)
        if lost:  # done, but the caller never learns it (a timeout or a proxy's 503 after the fact)
            return 503, {}, {"ok": False, "error": "service_unavailable"}
        return status, headers, answer

    def _carry_out(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        name = path.removeprefix("/api/") if path.startswith("/api/") else "response_url"
        with self._lock:
            self.calls.append((name, body))
            planned = self.failures.get(name)
            failure = planned.pop(0) if planned else None
        if failure is not None:
            status, error = failure
            headers = {"Retry-After": "0"} if status == 429 else {}
            return status, headers, {"ok": False, "error": error}
        if name == "auth.test":
            return 200, {}, {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T0TEAM"}
        if name == "apps.connections.open":
            return 200, {}, {"ok": True, "url": self.socket_url}
        if name == "chat.getPermalink":
            channel, ts = str(body.get("channel", "")), str(body.get("message_ts", ""))
            link = f"https://promobot-test.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return 200, {}, {"ok": True, "channel": channel, "permalink": link}
        if name == "response_url":
            return 200, {}, {"ok": True}
        if name == "conversations.list":
            listed = [{"id": cid, "name": channel.lstrip("#")} for channel, cid in CHANNELS.items()]
            return 200, {}, {"ok": True, "channels": listed, "response_metadata": {"next_cursor": ""}}
        if name == "conversations.history":
            listed = self.history(str(body.get("channel", "")))
            return 200, {}, {"ok": True, "messages": [_shown(m, body) for m in listed], "has_more": False}
        if name == "conversations.replies":
            return self._replies(body)
        if name == "chat.delete":
            return self._delete(body)
        channel = CHANNELS.get(str(body.get("channel", "")), str(body.get("channel", "")))
        ts = str(body.get("ts") or f"1700000000.{next(self._ts):06d}")
        if name == "chat.postMessage":
            if self.post_delay and "thread_ts" not in body:
                time.sleep(self.post_delay)
            with self._lock:
                self.messages.append({**body, "channel": channel, "ts": ts})
        return 200, {}, {"ok": True, "channel": channel, "ts": ts}

    def _replies(self, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        """A thread as conversations.replies lists it: the parent first, then its replies oldest first."""
        channel, ts = str(body.get("channel", "")), str(body.get("ts", ""))
        thread = self.thread(channel, ts)
        with self._lock:
            parent = [m for m in self.messages if m["channel"] == channel and m["ts"] == ts]
        if not parent:
            return 200, {}, {"ok": False, "error": "thread_not_found"}
        listed = [{**parent[0], "thread_ts": ts, "reply_count": len(thread)}, *thread]
        start = int(body.get("cursor") or 0)
        end = start + int(body.get("limit") or 1000)
        more = end < len(listed)
        answer = {
            "ok": True,
            "messages": [_shown(m, body) for m in listed[start:end]],
            "has_more": more,
            "response_metadata": {"next_cursor": str(end) if more else ""},
        }
        return 200, {}, answer

    def _delete(self, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        channel, ts = str(body.get("channel", "")), str(body.get("ts", ""))
        with self._lock:
            found = [m for m in self.messages if m["channel"] == channel and m["ts"] == ts]
            if not found:
                return 200, {}, {"ok": False, "error": "message_not_found"}
            self.messages.remove(found[0])
        return 200, {}, {"ok": True, "channel": channel, "ts": ts}

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The replies in the thread of message `ts` as they are now (deleted ones gone), oldest first."""
        with self._lock:
            return [m for m in self.messages if m["channel"] == channel and m.get("thread_ts") == ts]

    def history(self, channel: str) -> list[dict[str, Any]]:
        """The channel's top-level messages, newest first, as `conversations.history` lists them."""
        with self._lock:
            return [m for m in reversed(self.messages) if m["channel"] == channel and "thread_ts" not in m]

    def top_level(self) -> list[dict[str, Any]]:
        """Every top-level message posted (not thread replies), oldest first."""
        with self._lock:
            return [m for m in self.messages if "thread_ts" not in m]

    def latest_text(self, ts: str) -> str:
        """What the message `ts` says now: its post, or the last `chat.update` of it."""
        with self._lock:
            texts = [b["text"] for n, b in self.calls if (n == "chat.update" and b.get("ts") == ts)]
            posted = [m["text"] for m in self.messages if m["ts"] == ts]
        return (texts or posted or [""])[-1]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                self._reply(path, {k: v[0] for k, v in parse_qs(query).items()})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw or "{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw).items()}
                self._reply(self.path, body)

            def _reply(self, path: str, body: dict[str, Any]) -> None:
                status, headers, answer = fake._answer(path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler


def _shown(message: dict[str, Any], asked: dict[str, Any]) -> dict[str, Any]:
    """A stored message as a conversations.* method lists it: its metadata only when asked for."""
    if str(asked.get("include_all_metadata", "")).lower() in ("true", "1"):
        return message
    return {k: v for k, v in message.items() if k != "metadata"}
