"""The real ASGI app under uvicorn on loopback, on the service fakes, wired to a fake Slack; signed requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn

from promobot import bootstrap, config
from promobot.service import reporting
from promobot.service.context import Context
from promobot.web.app import create_app
from support.fake_slack import FakeSlack
from support.running import free_port, until

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHAT_USERS = {"U0DEV": "developer", "U0RM": "release-manager"}


class SlackServer:
    def __init__(self, ctx: Context, root: Path, slack: FakeSlack) -> None:
        root.mkdir(parents=True, exist_ok=True)
        (root / "signing").write_text(SECRET + "\n")
        (root / "bot").write_text("xoxb-test-token\n")
        settings = config.SlackSettings.model_validate(
            {
                "signing_secret": {"file": "signing"},
                "bot_token": {"file": "bot"},
                "channels": {"default": "#deploys", "envs": {"prod": "#prod"}},
                "api_url": slack.base_url,
            }
        )
        loaded = config.Loaded.model_construct(settings=config.Settings.model_construct(), base=root, path=root)
        self.application = bootstrap.Application(ctx=ctx, loaded=loaded, tokens={}, webhook_token="unused")
        bootstrap.wire_slack(self.application, settings, root, CHAT_USERS)
        self.reporter = next(c for c in self.application.components if isinstance(c, reporting.ChatReporter))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        server_config = uvicorn.Config(create_app(self.application), port=self.port, log_level="warning")
        self._server = uvicorn.Server(server_config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> SlackServer:
        self._thread.start()
        until(lambda: httpx.get(self.url + "/healthz", timeout=1).status_code == 200, 10, "uvicorn to serve")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def post(self, body: bytes, content_type: str, *, at: float | None = None, secret: str = SECRET,
             headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
        stamp = str(int(at if at is not None else time.time()))
        signature = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={signature}",
            **(headers or {}),
        }
        return httpx.post(self.url + "/slack/events", content=body, headers=sent, timeout=10)

    def slash(self, user: str, command: str, text: str, response_url: str, **kw: Any) -> httpx.Response:
        form = {
            "team_id": "T0TEAM",
            "channel_id": "C0DEPLOYS",
            "user_id": user,
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": f"trigger-{time.monotonic_ns()}",
        }
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded", **kw)

    def click(self, user: str, message_ts: str, button: dict[str, Any], response_url: str) -> httpx.Response:
        payload = {
            "type": "block_actions",
            "team": {"id": "T0TEAM"},
            "user": {"id": user},
            "channel": {"id": "C0PROD"},
            "container": {"type": "message", "message_ts": message_ts, "channel_id": "C0PROD"},
            "trigger_id": f"trigger-{time.monotonic_ns()}",
            "response_url": response_url,
            "actions": [{**button, "type": "button", "block_id": "b", "action_ts": str(time.time())}],
        }
        return self.post(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")

    def mention(self, user: str, text: str, event_id: str, retry: int = 0) -> httpx.Response:
        body = {
            "type": "event_callback",
            "team_id": "T0TEAM",
            "api_app_id": "A0APP",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {"type": "app_mention", "user": user, "channel": "C0DEPLOYS", "text": text, "ts": "1.0"},
        }
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(json.dumps(body).encode(), "application/json", headers=headers)
