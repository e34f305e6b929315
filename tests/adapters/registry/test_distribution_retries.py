"""A registry that fails now and then: 5xx, 429 and dropped connections are retried, then temporary."""

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
    waits: list[float] = []
    with proxy(open_registry.url) as (flaky, url):
        registry = DistributionRegistry(url, retries=3, backoff=0.01, sleep=waits.append)
        flaky.fail_next("503", "drop", "503")

        image = registry.get("web", "dev-aaaaaaa")

    assert image is not None and image.digest == digest
    assert flaky.seen[:4] == ["GET /v2/web/manifests/dev-aaaaaaa"] * 4
    assert waits == [0.01, 0.02, 0.03]


def test_a_short_retry_after_is_waited_and_a_long_one_handed_to_the_caller(open_registry: RegistryServer) -> None:
    push_image(open_registry.url, "web", "dev-aaaaaaa", LABELS)
    waits: list[float] = []
    with proxy(open_registry.url) as (flaky, url):
        registry = DistributionRegistry(url, retries=3, backoff=0.01, sleep=waits.append)
        flaky.fail_next("429:2")
        assert registry.get("web", "dev-aaaaaaa") is not None
        assert waits == [2.0]

        flaky.fail_next("429:120")
        with pytest.raises(errors.TemporaryError) as failure:
            registry.get("web", "dev-aaaaaaa")

    assert str(failure.value) == (
        "the registry answered 429 to GET /v2/web/manifests/dev-aaaaaaa: Too Many Requests; promobot will try again"
    )
    assert failure.value.retry_after == 120.0
    assert waits == [2.0]  # asked once: the operation's retry waits the two minutes, not a thread of promobot's
    assert flaky.seen[-1:] == ["GET /v2/web/manifests/dev-aaaaaaa"]


def test_a_registry_that_keeps_failing_is_a_temporary_error_after_the_retries(open_registry: RegistryServer) -> None:
    with proxy(open_registry.url) as (flaky, url):
        flaky.fail_next(*["503"] * 10)

        with pytest.raises(errors.TemporaryError) as failure:
            DistributionRegistry(url, retries=2, backoff=0.01).exists("web", "sha256:" + "0" * 64)

    assert str(failure.value) == (
        f"the registry answered 503 to HEAD /v2/web/manifests/sha256:{'0' * 64}: Service Unavailable;"
        " promobot will try again"
    )
    assert len(flaky.seen) == 3


def test_a_registry_that_is_down_is_a_temporary_error() -> None:
    where = f"http://127.0.0.1:{free_port()}"
    registry = DistributionRegistry(where, retries=1, backoff=0.01)

    with pytest.raises(errors.TemporaryError) as failure:
        registry.get("web", "dev-aaaaaaa")

    assert str(failure.value) == f"cannot reach the registry at {where} (ConnectError); promobot will try again"


def test_a_refusal_is_permanent_and_not_retried(server: RegistryServer) -> None:
    digest = push_image(server.start(delete=False).url, "web", "dev-aaaaaaa", LABELS)
    with proxy(server.url) as (counting, url):
        registry = DistributionRegistry(url, retries=3, backoff=0.01)

        with pytest.raises(errors.PermanentError, match=r"answered DELETE /v2/web/manifests/sha256:.* with 405"):
            registry.delete("web", digest)

    assert len(counting.seen) == 1
