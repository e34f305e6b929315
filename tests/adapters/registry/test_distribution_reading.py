"""Reading a real Distribution registry: images by tag, digests, labels, tag lists and deletes."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from registry_fakes import proxy

from promobot import ports
from promobot.adapters.registry.distribution import DistributionRegistry
from promobot.domain import errors
from support.registry_server import RegistryServer, push_image

REV, SRC = "a" * 40, "b" * 40
NAMES = ["dev-1111111", "dev-2222222", "qa-3333333", "qa-4444444", "staging-5555555"]
LABELS = {"org.opencontainers.image.revision": REV, "io.promobot.source-revision": SRC}


def test_the_adapter_satisfies_the_registry_port() -> None:
    registry: ports.Registry = DistributionRegistry("http://127.0.0.1:9")

    assert callable(registry.get) and callable(registry.exists)


def test_get_returns_digest_labels_and_creation_time_of_a_pushed_tag(open_registry: RegistryServer) -> None:
    digest = push_image(open_registry.url, "team/web", "qa-bbbbbbb", LABELS, created="2024-05-01T12:00:00.123456789Z")

    image = DistributionRegistry(open_registry.url).get("team/web", "qa-bbbbbbb")

    assert image is not None
    assert (image.tag, image.digest, dict(image.labels)) == ("qa-bbbbbbb", digest, LABELS)
    assert image.created == datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_get_answers_none_for_an_unknown_tag_or_image(open_registry: RegistryServer) -> None:
    push_image(open_registry.url, "web", "dev-aaaaaaa", LABELS)
    registry = DistributionRegistry(open_registry.url)

    assert registry.get("web", "dev-0000000") is None
    assert registry.get("nothing-here", "dev-aaaaaaa") is None


def test_a_retagged_image_reads_as_its_newest_manifest(open_registry: RegistryServer) -> None:
    push_image(open_registry.url, "web", "dev-aaaaaaa", LABELS, body="one")
    newer = push_image(open_registry.url, "web", "dev-aaaaaaa", {**LABELS, "x": "2"}, body="two")

    image = DistributionRegistry(open_registry.url).get("web", "dev-aaaaaaa")

    assert image is not None and image.digest == newer and image.labels["x"] == "2"


def test_exists_is_true_until_the_manifest_is_deleted(open_registry: RegistryServer) -> None:
    registry = DistributionRegistry(open_registry.url)
    digest = push_image(open_registry.url, "web", "dev-aaaaaaa", LABELS)
    assert registry.exists("web", digest)

    assert registry.delete("web", digest) is True

    assert not registry.exists("web", digest)
    assert registry.get("web", "dev-aaaaaaa") is None
    assert registry.delete("web", digest) is False


def test_tags_lists_every_tag_of_an_image(open_registry: RegistryServer) -> None:
    for name in NAMES:
        push_image(open_registry.url, "web", name, LABELS, body=name)
    registry = DistributionRegistry(open_registry.url)

    assert sorted(registry.tags("web")) == NAMES
    assert registry.tags("nothing-here") == []


def test_tags_follows_link_pagination_to_the_last_page(open_registry: RegistryServer) -> None:
    for name in NAMES:
        push_image(open_registry.url, "web", name, LABELS, body=name)
    with proxy(open_registry.url) as (paging, url):  # registry 2.8 does not page tags itself; the spec's way
        first_page = httpx.get(f"{url}/v2/web/tags/list?n=2")
        assert first_page.json()["tags"] == NAMES[:2] and 'rel="next"' in first_page.headers["Link"]

        listed = DistributionRegistry(url).tags("web", page_size=2)

    assert listed == NAMES
    assert [seen for seen in paging.seen if "tags/list" in seen][-3:] == [
        "GET /v2/web/tags/list?n=2",
        "GET /v2/web/tags/list?n=2&last=dev-2222222",
        "GET /v2/web/tags/list?n=2&last=qa-4444444",
    ]


@pytest.mark.parametrize(("image", "ref"), [("Web", "dev-1"), ("web", "-x"), ("../web", "dev-1"), ("web", "a/b")])
def test_names_outside_the_distribution_grammar_are_refused_before_any_request(image: str, ref: str) -> None:
    registry = DistributionRegistry("http://127.0.0.1:9", retries=0)

    with pytest.raises(errors.InvalidReference):
        registry.get(image, ref)


def test_exists_refuses_a_malformed_digest() -> None:
    with pytest.raises(errors.InvalidReference, match="not a valid digest"):
        DistributionRegistry("http://127.0.0.1:9", retries=0).exists("web", "sha256:../../x")
