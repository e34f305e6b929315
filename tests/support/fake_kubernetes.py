"""A contract fake of the Kubernetes API for Flux Kustomizations, served over HTTPS on loopback.

It answers as kube-apiserver does: a missing or unknown bearer token -> 401 Status `Unauthorized`; a token
whose ServiceAccount has no Role allowing the verb in the namespace -> 403 Status `Forbidden` naming the
user, resource and API group; an unknown object -> 404 Status `NotFound`; a PATCH without
`application/merge-patch+json` -> 415. A merge patch (RFC 7386) changes metadata only (no new generation),
and a `reconcile.fluxcd.io/requestedAt` annotation is recorded in `reconciles`.

The server's certificate is signed by a throwaway CA made with `openssl` (`certificates(dir)`), so clients
have to verify it against that CA.

    with FakeKubernetes(certs, tokens={"tok": Grant("promobot", {"flux-system"})}) as kube:
        kube.add("web-qa", ready="True", reason="ReconciliationSucceeded", applied="main@sha1:<sha>")
        kube.url, kube.reconciles, kube.requests
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from support.loopback_http import Answer, JsonApp, Request, serve, tls_context

GROUP, VERSION, PLURAL = "kustomize.toolkit.fluxcd.io", "v1", "kustomizations"
PREFIX = f"/apis/{GROUP}/{VERSION}/namespaces/"
READING, WRITING = frozenset({"get", "list", "watch"}), frozenset({"get", "list", "watch", "patch"})


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path


def certificates(directory: Path, name: str = "fake-kubernetes") -> Certificates:
    """A CA and a server certificate for 127.0.0.1 signed by it (EC P-256, valid one day)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / f"{name}-ca.crt", directory / f"{name}-ca.key"
    cert, key, csr = directory / f"{name}.crt", directory / f"{name}.key", directory / f"{name}.csr"
    extensions = directory / f"{name}.ext"
    extensions.write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req",
        "-x509",
        *curve,
        "-keyout",
        ca_key,
        "-out",
        ca,
        "-days",
        "1",
        "-subj",
        f"/CN={name} CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    _openssl("req", *curve, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    _openssl(
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        ca,
        "-CAkey",
        ca_key,
        "-CAcreateserial",
        "-out",
        cert,
        "-days",
        "1",
        "-extfile",
        extensions,
    )
    return Certificates(ca, cert, key)


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


@dataclass(frozen=True)
class Grant:
    """A ServiceAccount token's rights: the verbs it has on kustomizations in each namespace it names."""

    account: str
    namespaces: frozenset[str] | set[str]
    verbs: frozenset[str] = WRITING

    @property
    def user(self) -> str:
        return f"system:serviceaccount:promobot:{self.account}"


@dataclass
class Kustomization:
    name: str
    namespace: str = "flux-system"
    ready: str | None = "Unknown"  # "True", "False", "Unknown", or None: not reconciled yet (no conditions)
    reason: str = "Progressing"
    message: str = "Reconciliation in progress"
    applied: str = ""
    attempted: str = ""
    generation: int = 1
    observed_generation: int = 1
    annotations: dict[str, str] = field(default_factory=dict)
    resource_version: int = 1
    suspend: bool = False  # `spec.suspend`, as `flux suspend kustomization` sets it

    def to_json(self) -> dict[str, Any]:
        conditions = []
        if self.ready is not None:
            ready = {
                "type": "Ready",
                "status": self.ready,
                "reason": self.reason,
                "message": self.message,
                "observedGeneration": self.observed_generation,
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
            conditions.append(ready)
        if self.ready == "Unknown" or self.reason == "ProgressingWithRetry":
            conditions.append(
                {
                    "type": "Reconciling",
                    "status": "True",
                    "reason": "Progressing",
                    "message": self.message,
                    "observedGeneration": self.observed_generation,
                }
            )
        status: dict[str, Any] = {"observedGeneration": self.observed_generation, "conditions": conditions}
        if self.applied:
            status["lastAppliedRevision"] = self.applied
        if self.attempted or self.applied:
            status["lastAttemptedRevision"] = self.attempted or self.applied
        if "reconcile.fluxcd.io/requestedAt" in self.annotations:
            status["lastHandledReconcileAt"] = self.annotations["reconcile.fluxcd.io/requestedAt"]
        return {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "Kustomization",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "generation": self.generation,
                "resourceVersion": str(self.resource_version),
                "annotations": dict(self.annotations),
            },
            "spec": {
                "interval": "10m",
                "path": f"./{self.name}",
                "prune": True,
                "wait": True,
                "sourceRef": {"kind": "GitRepository", "name": "gitops"},
                **({"suspend": True} if self.suspend else {}),
            },
            "status": status,
        }


class FakeKubernetes(JsonApp):
    def __init__(self, certs: Certificates, *, tokens: dict[str, Grant]) -> None:
        super().__init__()
        self.certs, self.tokens = certs, dict(tokens)
        self.objects: dict[tuple[str, str], Kustomization] = {}
        self.reconciles: list[tuple[str, str, str]] = []  # (namespace, name, requestedAt)
        self.fail_next: list[int] = []

    @property
    def url(self) -> str:
        return self.base_url

    def add(self, name: str, namespace: str = "flux-system", **fields: Any) -> Kustomization:
        with self.lock:
            found = self.objects[(namespace, name)] = Kustomization(name, namespace, **fields)
            return found

    def show(self, name: str, namespace: str = "flux-system", **fields: Any) -> None:
        """What Flux writes into the status as it reconciles (`ready`, `reason`, `applied`, ...)."""
        with self.lock:
            found = self.objects[(namespace, name)]
            for key, value in fields.items():
                setattr(found, key, value)
            found.resource_version += 1

    # --- the API ------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Answer:
        if self.fail_next:
            return _status(self.fail_next.pop(0), "InternalError", "etcdserver: request timed out")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        grant = self.tokens.get(token) if scheme == "Bearer" else None
        if grant is None:
            return _status(401, "Unauthorized", "Unauthorized")
        if not request.path.startswith(PREFIX):
            return _status(404, "NotFound", "the server could not find the requested resource")
        parts = [unquote(p) for p in request.path.removeprefix(PREFIX).split("/")]
        if len(parts) not in (2, 3) or parts[1] != PLURAL:
            return _status(404, "NotFound", "the server could not find the requested resource")
        namespace, name = parts[0], parts[2] if len(parts) == 3 else ""
        verb = {"GET": "get" if name else "list", "PATCH": "patch"}.get(request.method, "")
        if not verb or (verb == "patch" and not name):
            return _status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        if verb not in grant.verbs or namespace not in grant.namespaces:
            what = f'{PLURAL}.{GROUP} "{name}"' if name else f"{PLURAL}.{GROUP}"
            return _status(
                403,
                "Forbidden",
                f'{what} is forbidden: User "{grant.user}" cannot {verb} resource '
                f'"{PLURAL}" in API group "{GROUP}" in the namespace "{namespace}"',
                name,
            )
        if verb == "list":
            items = [k.to_json() for (ns, _), k in sorted(self.objects.items()) if ns == namespace]
            return Answer(200, {"apiVersion": f"{GROUP}/{VERSION}", "kind": "KustomizationList", "items": items})
        found = self.objects.get((namespace, name))
        if found is None:
            return _status(404, "NotFound", f'{PLURAL}.{GROUP} "{name}" not found', name)
        if verb == "patch":
            return self._patch(found, request)
        return Answer(200, found.to_json())

    def _patch(self, found: Kustomization, request: Request) -> Answer:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/merge-patch+json":
            return _status(415, "UnsupportedMediaType", "the body of the request was in an unknown format")
        patch = request.body if isinstance(request.body, dict) else {}
        changes = (patch.get("metadata") or {}).get("annotations") or {}
        for key, value in changes.items():
            if value is None:
                found.annotations.pop(key, None)
            else:
                found.annotations[key] = str(value)
        if "reconcile.fluxcd.io/requestedAt" in changes:
            self.reconciles.append((found.namespace, found.name, str(changes["reconcile.fluxcd.io/requestedAt"])))
        if patch.get("spec"):
            found.generation += 1
        found.resource_version += 1
        return Answer(200, found.to_json())


def _status(code: int, reason: str, message: str, name: str = "") -> Answer:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if name:
        body["details"] = {"name": name, "group": GROUP, "kind": PLURAL}
    return Answer(code, body)


@contextmanager
def serve_tls(app: FakeKubernetes) -> Iterator[FakeKubernetes]:
    """Run the fake over HTTPS with its own certificate; `app.url` is `https://127.0.0.1:<port>`."""
    with serve(app, tls=tls_context(app.certs.cert, app.certs.key)) as served:
        yield served
