"""Any OCI Distribution registry over HTTP (Docker Hub, GHCR, Harbor, ECR, a self-hosted `registry`).

Implements `ports.Registry`, plus `tags` and `delete`. Manifests are asked for with every OCI and Docker
manifest and index media type; labels come from the image config blob. Authentication is `auth`'s.
Requests go through `http_calls.send`: 429, 500, 502, 503, 504, an unreachable registry and a token server's
own trouble are tried `retries` more times with backoff (a `Retry-After` up to 30 seconds is waited, a
longer one handed to the caller), then raised as TemporaryError. Safe to share between threads.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from promobot import ports
from promobot.adapters import http_calls, oci
from promobot.adapters.registry import auth
from promobot.domain import errors

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
ACCEPT = ", ".join((OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST))
INDEXES = (OCI_INDEX, DOCKER_LIST)

_NAME = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?')
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class DistributionRegistry:
    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._peer = http_calls.Peer(
            name="the registry",
            where=self.base_url,
            explain=_explain,
            hint="promobot will try again",
            trust_hint="point SSL_CERT_FILE at a bundle holding the CA of its certificate",
        )
        self._policy = http_calls.Policy(
            attempts=retries + 1,
            backoff=backoff,
            retried=_retried,
            retry_after=backoff * 2**retries,
            longest_wait=30.0,
            sleep=sleep,
        )
        self._client = httpx.Client(
            base_url=self.base_url,
            auth=auth.RegistryAuth(username, password),
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": "promobot"},
        )

    def __repr__(self) -> str:
        return f"DistributionRegistry({self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    # --- ports.Registry ------------------------------------------------------------------------------
    def get(self, image: str, tag: str) -> ports.Image | None:
        """The image `tag` names; a manifest digest in place of the tag reads that exact manifest."""
        _check(_NAME, "image name", image)
        if not _DIGEST.match(tag):
            _check(_TAG, "tag", tag)
        response = self._request("GET", f"/v2/{image}/manifests/{tag}", headers={"Accept": ACCEPT})
        if response.status_code == 404:
            return None
        digest = (
            response.headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(response.content).hexdigest()
        )
        manifest = _json(response)
        if manifest.get("mediaType") in INDEXES or "manifests" in manifest:
            chosen = _platform_manifest(manifest)
            response = self._request("GET", f"/v2/{image}/manifests/{chosen}", headers={"Accept": ACCEPT})
            if response.status_code == 404:
                return None
            manifest = _json(response)
        config_digest = str((manifest.get("config") or {}).get("digest", ""))
        _check(_DIGEST, "config digest", config_digest)
        blob = self._request("GET", f"/v2/{image}/blobs/{config_digest}")
        if blob.status_code == 404:
            return None
        return oci.image(tag, digest, _json(blob))

    def exists(self, image: str, digest: str) -> bool:
        _check(_NAME, "image name", image)
        _check(_DIGEST, "digest", digest)
        response = self._request("HEAD", f"/v2/{image}/manifests/{digest}", headers={"Accept": ACCEPT})
        return response.status_code != 404

    # --- more than the port --------------------------------------------------------------------------
    def tags(self, image: str, *, page_size: int | None = None) -> list[str]:
        """Every tag of `image`, following `Link: <...>; rel="next"` pages; [] when the image is unknown."""
        _check(_NAME, "image name", image)
        url: str | None = f"/v2/{image}/tags/list" + (f"?n={page_size}" if page_size else "")
        found: list[str] = []
        while url is not None:
            response = self._request("GET", url)
            if response.status_code == 404:
                return found
            found.extend(str(tag) for tag in (_json(response).get("tags") or []))
            url = self._next_page(response)
        return found

    def delete(self, image: str, digest: str) -> bool:
        """Delete the manifest `digest`; False when it was already gone. The registry must allow deletes."""
        _check(_NAME, "image name", image)
        _check(_DIGEST, "digest", digest)
        return self._request("DELETE", f"/v2/{image}/manifests/{digest}").status_code != 404

    # --- HTTP ----------------------------------------------------------------------------------------
    def _request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """Send with retries; returns 2xx and 404 answers, raises for the rest."""
        response = http_calls.send(self._client, method, url, peer=self._peer, policy=self._policy, headers=headers)
        if response.status_code < 400 or response.status_code == 404:
            return response
        raise _refused(f"{method} {httpx.URL(url).path}", response)

    def _next_page(self, response: httpx.Response) -> str | None:
        match = _NEXT.search(response.headers.get("Link", ""))
        if match is None:
            return None
        target = response.url.join(match.group(1))
        if (target.scheme, target.netloc) != (response.url.scheme, response.url.netloc):
            raise errors.PermanentError("the registry's next page of tags points at another host")
        return str(target)


def _retried(response: httpx.Response) -> bool:
    return response.status_code in _RETRY_STATUS


def _explain(response: httpx.Response) -> str:
    """The registry's own words from an error body (`{"errors": [{"code": .., "message": ..}]}`), shortened."""
    try:
        first = response.json()["errors"][0]
        said = str(first.get("message") or first.get("code") or "")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        said = response.text
    return " ".join(said.split())[:200] or response.reason_phrase  # one line, whatever a proxy sent


def _refused(where: str, response: httpx.Response) -> errors.PromobotError:
    if response.status_code in (401, 403):
        return errors.PermanentError(
            f"the registry refused {where} ({response.status_code})",
            "check the registry credentials in the config and their permissions on this image",
        )
    return errors.PermanentError(f"the registry answered {where} with {response.status_code}")


def _check(pattern: re.Pattern[str], kind: str, value: str) -> None:
    if not pattern.match(value):
        raise errors.InvalidReference(f"{value!r} is not a valid {kind}")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise errors.PermanentError(f"the registry sent something that is not a JSON object for {response.url.path}")
    return body


def _platform_manifest(index: dict[str, Any]) -> str:
    """The linux/amd64 manifest of an index (or its first one)."""
    manifests = [m for m in index.get("manifests") or [] if isinstance(m, dict)]
    preferred = [m for m in manifests if (m.get("platform") or {}).get("os") == "linux"]
    preferred = [m for m in preferred if m["platform"].get("architecture") == "amd64"] or preferred
    chosen = (preferred or manifests or [{}])[0]
    digest = str(chosen.get("digest", ""))
    _check(_DIGEST, "manifest digest", digest)
    return digest
