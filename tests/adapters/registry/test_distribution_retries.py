"""A registry that fails now and then: 5xx answers and dropped connections are retried, then temporary."""

from __future__ import annotations

import pytest
from registry_fakes import proxy

from promobot.adapters.registry.distribution import DistributionRegistry
from promobot.domain import errors
from support.registry_server import RegistryServer, push_image
from support.running import free_port

LABELS = {"org.opencontainers.image.revision": "a" * 40}


def test_a_few_503s_and_a_dropped_connection_are_retried_until_the_answer_comes(
    open_registry: RegistryServer,
) -> None:
    digest = push_image(open_registry.url, "web", "dev-aaaaaaa", LABELS)
    with proxy(open_registry.url) as (flaky, url):
        registry = DistributionRegistry(url, retries=3, backoff=0.01)
        flaky.fail_next("503", "drop", "503")

        image = registry.get("web", "dev-aaaaaaa")

    assert image is not None and image.digest == digest
    assert flaky.seen[:4] == ["GET /v2/web/manifests/dev-aaaaaaa"] * 4


def test_a_registry_that_keeps_failing_is_a_temporary_error_after_the_retries(open_registry: RegistryServer) -> None:
    with proxy(open_registry.url) as (flaky, url):
        flaky.fail_next(*["503"] * 10)

        with pytest.raises(
            errors.TemporaryError, match=r"did not answer HEAD /v2/web/manifests/sha256:0+ \(HTTP 503\)"
        ):
            DistributionRegistry(url, retries=2, backoff=0.01).exists("web", "sha256:" + "0" * 64)

    assert len(flaky.seen) == 3


def test_a_registry_that_is_down_is_a_temporary_error() -> None:
    registry = DistributionRegistry(f"http://127.0.0.1:{free_port()}", retries=1, backoff=0.01)

    with pytest.raises(errors.TemporaryError, match="ConnectError"):
        registry.get("web", "dev-aaaaaaa")


def test_a_refusal_is_permanent_and_not_retried(server: RegistryServer) -> None:
    digest = push_image(server.start(delete=False).url, "web", "dev-aaaaaaa", LABELS)
    with proxy(server.url) as (counting, url):
        registry = DistributionRegistry(url, retries=3, backoff=0.01)

        with pytest.raises(errors.PermanentError, match=r"answered DELETE /v2/web/manifests/sha256:.* with 405"):
            registry.delete("web", digest)

    assert len(counting.seen) == 1
