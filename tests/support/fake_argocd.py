"""A contract fake of Argo CD's REST API on 127.0.0.1, following its documented behaviour.

Stateful: Applications with a project, an auto-sync policy, health, sync status, images and history; API
tokens, each allowed a set of projects. Like Argo CD (server/application/application.go):
- no or unknown bearer token -> 401 `no session information` (grpc code 16);
- an Application the token may not see -> 403 `permission denied` (code 7);
- an unknown Application -> 403 as well, unless the request names a `project` the token may use: then
  404 `applications.argoproj.io "<name>" not found` (code 5); an Application in another project than the
  one named -> 403;
- sync while an operation runs -> 400 `another operation is already in progress` (FailedPrecondition, 9);
- rollback while auto-sync is on -> 400 `rollback cannot be initiated when auto-sync is enabled`.
A manual sync is allowed with auto-sync on, as in Argo CD; promobot simply does not ask for one.

    with FakeArgoCD(tokens={"tok": {"default"}}) as argo:
        argo.add("web-qa", images=["reg/web@sha256:..."], auto_sync=False)
        argo.url, argo.syncs, argo.requests
        argo.drop_syncs = 1; argo.apply_syncs = True   # the first sync is lost; the next one deploys
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class FakeApplication:
    name: str
    project: str = "default"
    namespace: str = "argocd"
    auto_sync: bool = False
    health: str = "Healthy"
    health_message: str = ""
    sync: str = "Synced"
    phase: str = "Succeeded"
    operation_message: str = ""
    images: list[str] = field(default_factory=list)
    desired_images: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        policy: dict[str, Any] = {"automated": {"prune": True, "selfHeal": True}} if self.auto_sync else {}
        return {
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": {"project": self.project, "syncPolicy": policy},
            "status": {
                "sync": {"status": self.sync, "revision": "0" * 40},
                "health": {"status": self.health, "message": self.health_message},
                "summary": {"images": list(self.images), "externalURLs": list(self.urls)},
                "operationState": {"phase": self.phase, "message": self.operation_message},
                "history": list(self.history),
            },
        }


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str
    body: Any


class FakeArgoCD:
    def __init__(self, *, tokens: dict[str, set[str]]) -> None:
        self.tokens = tokens  # token -> projects it may use ("*" for all)
        self.apps: dict[str, FakeApplication] = {}
        self.syncs: list[str] = []
        self.rollbacks: list[str] = []
        self.requests: list[Seen] = []
        self.fail_next: list[int] = []  # status codes to answer the next requests with
        self.drop_syncs = 0  # the next this many syncs are answered 200 and never applied (lost on the way)
        self.dropped: list[str] = []
        self.apply_syncs = False  # a sync deploys `desired_images` at once and ends healthy
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, name: str, **fields: Any) -> FakeApplication:
        app = FakeApplication(name, **fields)
        with self.lock:
            self.apps[name] = app
        return app

    def __enter__(self) -> FakeArgoCD:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # The API, called by the handler under self.lock; returns (status, body).
    def answer(self, seen: Seen) -> tuple[int, dict[str, Any]]:
        self.requests.append(seen)
        if self.fail_next:
            status = self.fail_next.pop(0)
            return status, {"error": "upstream connect error", "code": 14, "message": "upstream connect error"}
        scheme, _, token = seen.authorization.partition(" ")
        if scheme != "Bearer" or token not in self.tokens:
            return _error(401, 16, "no session information")
        parts = seen.path.strip("/").split("/")
        if parts[:3] != ["api", "v1", "applications"] or len(parts) < 4:
            return _error(404, 5, "Not Found")
        name, action = unquote(parts[3]), "/".join(parts[4:])
        project = (seen.query.get("project") or [""])[0]
        if seen.method == "POST" and isinstance(seen.body, dict):
            project = project or str(seen.body.get("project") or "")
        allowed = self.tokens[token]
        app = self.apps.get(name)
        may = "*" in allowed or (project in allowed if project else app is not None and app.project in allowed)
        if not may or (app is not None and project and app.project != project):
            return _error(403, 7, "permission denied")
        if app is None:
            if project:
                return _error(404, 5, f'applications.argoproj.io "{name}" not found')
            return _error(403, 7, "permission denied")
        return self._act(app, seen.method, action)

    def _act(self, app: FakeApplication, method: str, action: str) -> tuple[int, dict[str, Any]]:
        if method == "GET" and action == "":
            return 200, app.to_json()
        if method == "GET" and action == "manifests":
            manifests = [json.dumps({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": image}]}}}}) for image in app.desired_images]  # fmt: skip
            return 200, {"manifests": manifests}
        if method == "POST" and action == "sync":
            if app.phase == "Running":
                return _error(400, 9, "another operation is already in progress")
            if self.drop_syncs > 0:
                self.drop_syncs -= 1
                self.dropped.append(app.name)
                return 200, app.to_json()
            self.syncs.append(app.name)
            app.phase, app.sync = "Running", "Synced"
            if self.apply_syncs:
                app.images, app.phase, app.health = list(app.desired_images), "Succeeded", "Healthy"
            return 200, app.to_json()
        if method == "POST" and action == "rollback":
            if app.auto_sync:
                return _error(400, 9, "rollback cannot be initiated when auto-sync is enabled")
            self.rollbacks.append(app.name)
            return 200, app.to_json()
        return _error(404, 5, "Not Found")


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": message, "code": code, "message": message}


def _handler(fake: FakeArgoCD) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            seen = Seen(method, split.path, parse_qs(split.query), self.headers.get("Authorization", ""), body)
            with fake.lock:
                status, answer = fake.answer(seen)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler
