"""Dashboard sessions: a signed cookie naming the signed-in user, and the CSRF token of each session.

The signing key is 32 random bytes made once into `<state_dir>/web-session.key` (mode 0600). The cookie
holds a random session id, the user's name, a fingerprint of their current API token (so a changed or
removed token ends the session) and an expiry, signed with HMAC-SHA256; never the token itself. Every
visitor gets a session (anonymous until sign-in); sign-in issues a new session id. The CSRF token is an
HMAC of the session id, checked on every POST.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request, Response

from promobot.bootstrap import Application
from promobot.domain.people import User

COOKIE = "promobot_session"
TTL_SECONDS = 12 * 3600
KEY_FILE = "web-session.key"
_lock = threading.Lock()


@dataclass(frozen=True)
class Session:
    sid: str
    user: str = ""
    fingerprint: str = ""
    expires: int = 0


def signing_key(state_dir: Path) -> bytes:
    """The key in the state directory, made on first use (0600)."""
    path = state_dir / KEY_FILE
    with _lock:
        if not path.exists():
            state_dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it first
            else:
                with os.fdopen(fd, "wb") as out:
                    out.write(secrets.token_bytes(32))
        return path.read_bytes()


class Sessions:
    def __init__(self, application: Application, key: bytes) -> None:
        self._app = application
        self._key = key
        self._by_name = {user.name: token for token, user in application.tokens.items()}

    def _mac(self, data: bytes) -> str:
        return _b64(hmac.new(self._key, data, hashlib.sha256).digest())

    def fingerprint(self, user: str) -> str:
        token = self._by_name.get(user, "")
        return self._mac(b"token:" + token.encode())[:22]

    def read(self, request: Request) -> Session:
        """The caller's valid session, or a fresh anonymous one."""
        raw = request.cookies.get(COOKIE, "")
        body, _, mac = raw.partition(".")
        if body and mac and hmac.compare_digest(mac, self._mac(body.encode())):
            try:
                data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
                session = Session(str(data["n"]), str(data["u"]), str(data["f"]), int(data["e"]))
            except (ValueError, KeyError, TypeError):
                return self.anonymous()
            if session.expires > time.time():
                return session
        return self.anonymous()

    def anonymous(self) -> Session:
        return Session(secrets.token_urlsafe(16), expires=int(time.time()) + TTL_SECONDS)

    def signed_in(self, user: User) -> Session:
        expires = int(time.time()) + TTL_SECONDS
        return Session(secrets.token_urlsafe(16), user.name, self.fingerprint(user.name), expires)

    def user(self, session: Session) -> User | None:
        """The session's user while their token is still the one they signed in with."""
        if not session.user or session.user not in self._by_name:
            return None
        if not hmac.compare_digest(session.fingerprint, self.fingerprint(session.user)):
            return None
        return self._app.tokens[self._by_name[session.user]]

    def csrf(self, session: Session) -> str:
        return self._mac(b"csrf:" + session.sid.encode())

    def csrf_ok(self, session: Session, offered: str) -> bool:
        return bool(offered) and hmac.compare_digest(offered, self.csrf(session))

    def write(self, request: Request, response: Response, session: Session) -> None:
        data = {"n": session.sid, "u": session.user, "f": session.fingerprint, "e": session.expires}
        body = _b64(json.dumps(data).encode())
        response.set_cookie(
            COOKIE,
            f"{body}.{self._mac(body.encode())}",
            max_age=TTL_SECONDS,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )


def sessions(request: Request) -> Sessions:
    """The app's Sessions, made on first use (the key file is read once per app)."""
    state = request.app.state
    found: Sessions | None = getattr(state, "sessions", None)
    if found is None:
        application: Application = state.application
        key = signing_key(application.loaded.resolve(application.loaded.settings.state_dir))
        found = Sessions(application, key)
        state.sessions = found
    return found


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
