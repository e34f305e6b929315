"""The artifacts repository: one record per app:tag, found by tag or by commit prefix."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from store_samples import DIGEST_A, DIGEST_B, SHA_A, SHA_B, ManualClock, artifact

from promobot.adapters.store.sql import SqlStore


def test_add_records_the_artifact_with_built_at(store: SqlStore, clock: ManualClock) -> None:
    with store.unit_of_work() as uow:
        added = uow.artifacts.add(artifact())
        uow.commit()
    assert added == replace(artifact(), built_at=clock.at)
    with store.unit_of_work() as uow:
        assert uow.artifacts.get("web", "dev-1a2b3c4") == added
        assert uow.artifacts.get("web", "dev-0000000") is None
        assert uow.artifacts.get("api", "dev-1a2b3c4") is None


def test_add_keeps_a_given_built_at(store: SqlStore) -> None:
    built = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    with store.unit_of_work() as uow:
        assert uow.artifacts.add(artifact(built_at=built)).built_at == built


def test_adding_the_same_tag_again_updates_its_digest_and_revisions(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        first = uow.artifacts.add(artifact())
        rebuilt = uow.artifacts.add(artifact(digest=DIGEST_B, revision=SHA_B))
        uow.commit()
        assert rebuilt.digest == DIGEST_B and rebuilt.revision == SHA_B
        assert first.built_at is not None and rebuilt.built_at is not None
        assert rebuilt.built_at > first.built_at
        assert uow.artifacts.with_tag("dev-1a2b3c4") == [rebuilt]


def test_adding_an_identical_artifact_again_changes_nothing(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        first = uow.artifacts.add(artifact())
        assert uow.artifacts.add(artifact()) == first


def test_with_tag_finds_every_app_carrying_the_tag(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        web = uow.artifacts.add(artifact("web"))
        api = uow.artifacts.add(artifact("api", digest=DIGEST_B))
        uow.artifacts.add(artifact("web", tag="qa-1a2b3c4"))
        assert uow.artifacts.with_tag("dev-1a2b3c4") == [api, web]
        assert uow.artifacts.with_tag("prod-1a2b3c4") == []


def test_with_revision_prefix_matches_the_revision_or_the_source_revision(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        dev = uow.artifacts.add(artifact(tag="dev-1a2b3c4", revision=SHA_A))
        qa = uow.artifacts.add(artifact(tag="qa-1a2b3c4", revision=SHA_B))
        assert {a.tag for a in uow.artifacts.with_revision_prefix("1a2b")} == {dev.tag, qa.tag}
        assert uow.artifacts.with_revision_prefix(SHA_B[:7]) == [qa]
        assert uow.artifacts.with_revision_prefix("0000") == []


def test_with_revision_prefix_treats_like_wildcards_literally(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.artifacts.add(artifact())
        assert uow.artifacts.with_revision_prefix("%") == []
        assert uow.artifacts.with_revision_prefix("_a2b") == []


def test_digests_are_kept_exactly(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        assert uow.artifacts.add(artifact(digest=DIGEST_A)).digest == DIGEST_A
