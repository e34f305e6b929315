"""A small client of promobot's REST API with one user's token: used by the CLI, the demo and the tests."""

from __future__ import annotations

import time
from typing import Any

import httpx

from promobot import config
from promobot.domain import errors

FINAL = {"succeeded", "failed", "cancelled", "awaiting_approval"}


class ApiError(Exception):
    """The server refused or failed: `str()` is the one line to show."""

    def __init__(self, message: str, code: str = "error") -> None:
        super().__init__(message)
        self.code = code


class Client:
    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        self._http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
        self.base_url = base_url

    @classmethod
    def for_user(cls, loaded: config.Loaded, user: str | None) -> Client:
        settings = loaded.settings
        name = user or settings.users[0].name
        match = next((u for u in settings.users if u.name == name), None)
        if match is None:
            known = ", ".join(u.name for u in settings.users)
            raise errors.ConfigError(f"no user {name!r} in {loaded.path}", f"use --as with one of: {known}")
        url = f"http://{settings.server.host}:{settings.server.port}"
        return cls(url, match.token.read(loaded.base))

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError:
            raise ApiError(f"no promobot server answers at {self.base_url}", "unreachable") from None
        except httpx.HTTPError as exc:
            raise ApiError(f"talking to {self.base_url} failed: {exc}", "unreachable") from None
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                text = error["message"] + (f"; {error['hint']}" if error.get("hint") else "")
                raise ApiError(text, error.get("code", "error"))
            except (ValueError, KeyError, TypeError):
                raise ApiError(f"server answered {response.status_code}: {response.text[:200]}") from None
        return response.json()

    def promote(self, artifact: str, env: str | None) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", "/api/promote", json={"artifact": artifact, "env": env})
        return result

    def rollback(self, target: str, env: str | None) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", "/api/rollback", json={"target": target, "env": env})
        return result

    def approve(self, operation: int) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", f"/api/operations/{operation}/approve")
        return result

    def cancel(self, operation: int) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", f"/api/operations/{operation}/cancel")
        return result

    def status(self, operation: int) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", f"/api/operations/{operation}")
        return result

    def board(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("GET", "/api/list")
        return result

    def history(self, app: str, env: str, limit: int = 20) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("GET", f"/api/history/{app}/{env}", params={"limit": limit})
        return result

    def diff(self, src: str, dst: str, app: str | None) -> list[dict[str, Any]]:
        params = {"app": app} if app else {}
        result: list[dict[str, Any]] = self.call("GET", f"/api/diff/{src}/{dst}", params=params)
        return result

    def lock(self, env: str, reason: str = "") -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", f"/api/locks/{env}", json={"reason": reason})
        return result

    def unlock(self, env: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("DELETE", f"/api/locks/{env}")
        return result

    def locks(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("GET", "/api/locks")
        return result

    def audit(self, limit: int = 50, actor: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, **({"actor": actor} if actor else {})}
        result: list[dict[str, Any]] = self.call("GET", "/api/audit", params=params)
        return result

    def wait(self, operation: int, timeout: float = 300.0, poll: float = 0.3) -> dict[str, Any]:
        """Poll until the operation ends or waits for approval."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.status(operation)
            if current["state"] in FINAL or time.monotonic() > deadline:
                return current
            time.sleep(poll)
