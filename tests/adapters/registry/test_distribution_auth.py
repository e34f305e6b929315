"""Authenticating to a real registry: the bearer token flow with a token server, and htpasswd basic auth.

Images are pushed while the registry is open, then it is restarted on the same storage with auth on.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from registry_fakes import token_server
from structlog.testing import capture_logs

from promobot.adapters.registry.distribution import DistributionRegistry
from promobot.domain import errors
from support.registry_server import RegistryServer, push_image

USER, PASSWORD = "ci-bot", "s3cret-Registry-Passw0rd"
LABELS = {"org.opencontainers.image.revision": "a" * 40}


def test_the_token_flow_gets_a_scoped_token_once_and_reuses_it(server: RegistryServer, tmp_path: Path) -> None:
    digest = push_image(server.start().url, "team/web", "dev-aaaaaaa", LABELS)
    server.stop()
    with token_server(tmp_path / "tokens", username=USER, password=PASSWORD) as (tokens, realm):
        server.start(auth=tokens.registry_auth(realm))
        registry = DistributionRegistry(server.url, username=USER, password=PASSWORD)

        image = registry.get("team/web", "dev-aaaaaaa")
        assert registry.exists("team/web", digest)
        assert registry.get("team/web", "dev-aaaaaaa") is not None

    assert image is not None and image.digest == digest and image.labels == LABELS
    assert tokens.asked == [(tokens.service, "repository:team/web:pull", USER)]


def test_a_token_is_asked_for_again_once_it_expires(server: RegistryServer, tmp_path: Path) -> None:
    push_image(server.start().url, "web", "dev-aaaaaaa", LABELS)
    server.stop()
    with token_server(tmp_path / "tokens", username=USER, password=PASSWORD) as (tokens, realm):
        tokens.lifetime = 6  # cached for one second (renewed five seconds early)
        server.start(auth=tokens.registry_auth(realm))
        registry = DistributionRegistry(server.url, username=USER, password=PASSWORD)
        registry.get("web", "dev-aaaaaaa")
        time.sleep(1.2)

        assert registry.get("web", "dev-aaaaaaa") is not None

    assert len(tokens.asked) == 2


def test_refused_token_credentials_are_permanent_and_never_shown(
    server: RegistryServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with token_server(tmp_path / "tokens", username=USER, password="another-password") as (tokens, realm):
        server.start(auth=tokens.registry_auth(realm))
        registry = DistributionRegistry(server.url, username=USER, password=PASSWORD)

        with capture_logs() as logs, pytest.raises(errors.PermanentError, match="refused the credentials") as failure:
            registry.get("web", "dev-aaaaaaa")

    shown = " ".join([str(failure.value), repr(failure.value), repr(registry), caplog.text, repr(logs)])
    assert PASSWORD not in shown and "s3cret" not in shown


def test_anonymous_reads_of_a_token_protected_registry_are_refused(server: RegistryServer, tmp_path: Path) -> None:
    with token_server(tmp_path / "tokens", username=USER, password=PASSWORD) as (tokens, realm):
        server.start(auth=tokens.registry_auth(realm))

        with pytest.raises(errors.PermanentError, match="token server refused"):
            DistributionRegistry(server.url).get("web", "dev-aaaaaaa")


@pytest.fixture
def htpasswd(tmp_path: Path) -> Path:
    binary = shutil.which("htpasswd")
    if binary is None:
        pytest.skip("htpasswd (apache2-utils) is not installed")
    made = subprocess.run([binary, "-Bbn", USER, PASSWORD], capture_output=True, text=True, check=True)
    path = tmp_path / "htpasswd"
    path.write_text(made.stdout)
    return path


def test_basic_auth_reads_a_registry_protected_by_htpasswd(
    server: RegistryServer, htpasswd: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    digest = push_image(server.start().url, "web", "dev-aaaaaaa", LABELS)
    server.stop()
    server.start(auth={"htpasswd": {"realm": "promobot-test", "path": str(htpasswd)}})
    registry = DistributionRegistry(server.url, username=USER, password=PASSWORD)

    with capture_logs() as logs:
        image = registry.get("web", "dev-aaaaaaa")
        assert registry.tags("web") == ["dev-aaaaaaa"]

    assert image is not None and image.digest == digest
    assert PASSWORD not in caplog.text + repr(logs) + repr(registry)


def test_a_wrong_basic_password_is_refused_without_echoing_it(server: RegistryServer, htpasswd: Path) -> None:
    server.start(auth={"htpasswd": {"realm": "promobot-test", "path": str(htpasswd)}})
    registry = DistributionRegistry(server.url, username=USER, password="wrong-" + PASSWORD)

    with pytest.raises(errors.PermanentError, match="refused GET /v2/web/manifests/dev-aaaaaaa") as failure:
        registry.get("web", "dev-aaaaaaa")

    assert PASSWORD not in str(failure.value)
    with pytest.raises(errors.PermanentError, match="401"):
        DistributionRegistry(server.url).exists("web", "sha256:" + "0" * 64)
