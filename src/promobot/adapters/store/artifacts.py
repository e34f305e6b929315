"""The artifacts repository: one row per app:tag, its digest and the commits it was built from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from promobot.adapters.store import writes
from promobot.adapters.store.tables import artifacts
from promobot.domain.artifacts import Artifact
from promobot.ports import Clock


class SqlArtifacts:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def add(self, artifact: Artifact) -> Artifact:
        """Record app:tag; a rebuild with another digest or revision replaces them and its built_at."""
        stored = self.get(artifact.app, artifact.tag)
        unchanged = stored is not None and (stored.digest, stored.source_revision, stored.revision) == (
            artifact.digest,
            artifact.source_revision,
            artifact.revision,
        )
        if stored is not None and unchanged:
            return stored
        writes.upsert(
            self._session,
            artifacts,
            {"app": artifact.app, "tag": artifact.tag},
            {
                "digest": artifact.digest,
                "source_revision": artifact.source_revision,
                "revision": artifact.revision,
                "built_at": artifact.built_at or self._clock.now(),
            },
        )
        added = self.get(artifact.app, artifact.tag)
        assert added is not None
        return added

    def get(self, app: str, tag: str) -> Artifact | None:
        row = self._session.execute(select(artifacts).where(artifacts.c.app == app, artifacts.c.tag == tag)).first()
        return _artifact(row) if row is not None else None

    def with_tag(self, tag: str) -> list[Artifact]:
        rows = self._session.execute(select(artifacts).where(artifacts.c.tag == tag).order_by(artifacts.c.app))
        return [_artifact(row) for row in rows]

    def with_revision_prefix(self, prefix: str) -> list[Artifact]:
        rows = self._session.execute(
            select(artifacts)
            .where(
                or_(
                    artifacts.c.revision.startswith(prefix, autoescape=True),
                    artifacts.c.source_revision.startswith(prefix, autoescape=True),
                )
            )
            .order_by(artifacts.c.app, artifacts.c.built_at.desc(), artifacts.c.id.desc())
        )
        return [_artifact(row) for row in rows]


def _artifact(row: Row[Any]) -> Artifact:
    return Artifact(
        app=row.app,
        tag=row.tag,
        digest=row.digest,
        source_revision=row.source_revision,
        revision=row.revision,
        built_at=row.built_at,
    )
