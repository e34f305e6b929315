"""Reading a real Distribution registry: images by tag, digests, labels, tag lists and deletes."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from registry_fakes import proxy

from promobot import ports
from promobot.adapters import oci
from promobot.adapters.registry import distribution
from promobot.adapters.registry.distribution import DistributionRegistry
from promobot.domain import errors
from support.registry_server import OCI_MANIFEST, RegistryServer, push_image

REV, SRC = "a" * 40, "b" * 40
ACCEPT_OCI = {"Accept": OCI_MANIFEST}
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


def test_get_by_manifest_digest_reads_that_exact_image_even_after_the_tag_moved(open_registry: RegistryServer) -> None:
    older = push_image(open_registry.url, "web", "dev-aaaaaaa", {**LABELS, "n": "1"}, body="one")
    push_image(open_registry.url, "web", "dev-aaaaaaa", {**LABELS, "n": "2"}, body="two")

    image = DistributionRegistry(open_registry.url).get("web", older)

    assert image is not None and image.digest == older and image.labels["n"] == "1"


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


def test_an_image_copied_in_by_skopeo_from_an_oci_layout_reads_back_with_its_digest(
    open_registry: RegistryServer, tmp_path: Path
) -> None:
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        pytest.skip("skopeo is not installed")
    layout = tmp_path / "layout"
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": LABELS}}).encode()
    config_digest, config_size = oci.write_blob(layout, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": oci.MANIFEST,
        "config": {"mediaType": oci.CONFIG, "digest": config_digest, "size": config_size},
        "layers": [],
    }
    digest, size = oci.write_blob(layout, json.dumps(manifest).encode())
    with oci.locked(layout):
        oci.set_tag(layout, "qa-ccccccc", digest, size)
    target = f"docker://127.0.0.1:{open_registry.port}/team/web:qa-ccccccc"
    subprocess.run(
        [skopeo, "copy", "--quiet", "--dest-tls-verify=false", f"oci:{layout}:qa-ccccccc", target],
        check=True,
        capture_output=True,
    )

    image = DistributionRegistry(open_registry.url).get("team/web", "qa-ccccccc")

    assert image is not None and image.digest == digest and dict(image.labels) == LABELS


def test_an_index_tag_reads_the_labels_of_its_linux_amd64_image_and_keeps_the_index_digest(
    open_registry: RegistryServer,
) -> None:
    arm = push_image(open_registry.url, "web", "arm", {**LABELS, "arch": "arm64"}, body="arm")
    amd = push_image(open_registry.url, "web", "amd", {**LABELS, "arch": "amd64"}, body="amd")
    entries = [(arm, "arm64"), (amd, "amd64")]
    index = {
        "schemaVersion": 2,
        "mediaType": distribution.OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": d, "size": 1, "platform": {"os": "linux", "architecture": a}}
            for d, a in entries
        ],
    }
    sizes = {
        d: len(httpx.get(f"{open_registry.url}/v2/web/manifests/{d}", headers=ACCEPT_OCI).content) for d, _ in entries
    }
    for entry in index["manifests"]:
        entry["size"] = sizes[entry["digest"]]
    stored = httpx.put(
        f"{open_registry.url}/v2/web/manifests/staging-ddddddd",
        content=json.dumps(index),
        headers={"Content-Type": distribution.OCI_INDEX},
    )
    assert stored.status_code == 201, stored.text

    image = DistributionRegistry(open_registry.url).get("web", "staging-ddddddd")

    assert image is not None
    assert image.digest == stored.headers["Docker-Content-Digest"] and image.labels["arch"] == "amd64"
