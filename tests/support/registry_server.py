"""A real Distribution registry (Debian's `docker-registry`) on 127.0.0.1 for tests, and pushing into it.

`RegistryServer` writes a config (filesystem storage in a tmp dir, deletes on, optional htpasswd or token
auth, optional notification endpoints) and runs `docker-registry serve`. `push_image` uploads a small
OCI image (one layer, a config with labels) with plain HTTP calls, as the distribution API describes.
The `registry_binary` fixture skips when the binary is missing, unless CI=true (then it fails).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from support.running import free_port, until

BINARY = "docker-registry"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def registry_binary() -> str:
    found = shutil.which(BINARY)
    if found is None:
        message = f"`{BINARY}` is not installed (apt-get install docker-registry)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


class RegistryServer:
    """One `docker-registry serve` process; `start` again (after `stop`) keeps the stored images."""

    def __init__(self, binary: str, root: Path) -> None:
        self.binary = binary
        self.root = root
        self.storage = root / "storage"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = root / "registry.log"

    def start(
        self, *, auth: dict[str, Any] | None = None, notify: dict[str, Any] | None = None, delete: bool = True
    ) -> RegistryServer:
        settings: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "info", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.storage)},
                "delete": {"enabled": delete},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {"addr": f"127.0.0.1:{self.port}", "secret": "test-only-upload-secret"},
        }
        if auth:
            settings["auth"] = auth
        if notify:
            settings["notifications"] = {"endpoints": [notify]}
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        config.write_text(yaml.safe_dump(settings))
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen([self.binary, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT)
        until(self._answers, 15, f"docker-registry on port {self.port}")
        return self

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"docker-registry exited:\n{self.log.read_text(errors='replace')[-3000:]}")
        return httpx.get(self.url + "/v2/", timeout=1).status_code in (200, 401)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload_blob(http: httpx.Client, name: str, data: bytes) -> str:
    """A monolithic upload: POST for a session, PUT the bytes with their digest."""
    digest = _digest(data)
    started = http.post(f"/v2/{name}/blobs/uploads/")
    assert started.status_code == 202, started.text
    location = httpx.URL(started.headers["Location"])
    done = http.put(location.copy_merge_params({"digest": digest}), content=data)
    assert done.status_code == 201, done.text
    return digest


def push_image(
    base_url: str, name: str, tag: str, labels: dict[str, str], *, created: str = "", body: str = "hello"
) -> str:
    """Push a one-layer OCI image tagged `tag`; returns the manifest digest the registry reports."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w:gz") as archive:
        data = body.encode()
        info = tarfile.TarInfo("app/hello.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    config: dict[str, Any] = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": []},
    }
    if created:
        config["created"] = created
    config_bytes = json.dumps(config).encode()
    with httpx.Client(base_url=base_url, timeout=10) as http:
        layer_digest = upload_blob(http, name, layer.getvalue())
        config_digest = upload_blob(http, name, config_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config_bytes),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest,
                    "size": len(layer.getvalue()),
                }
            ],
        }
        stored = http.put(
            f"/v2/{name}/manifests/{tag}", content=json.dumps(manifest), headers={"Content-Type": OCI_MANIFEST}
        )
        assert stored.status_code == 201, stored.text
        return str(stored.headers["Docker-Content-Digest"])
