"""Turning what a person typed into one artifact, or a clear error naming the forms that work."""

from __future__ import annotations

from promobot import ports
from promobot.domain import errors
from promobot.domain.artifacts import USAGE, Artifact, ArtifactRef
from promobot.domain.pipeline import Pipeline


def artifact(uow: ports.UnitOfWork, pipeline: Pipeline, ref: ArtifactRef) -> Artifact:
    if ref.app is not None:
        pipeline.app(ref.app)
    if ref.env is not None and ref.app is not None:
        return _running(uow, pipeline, ref.app, ref.env)
    if ref.tag is not None and ref.app is not None:
        found = uow.artifacts.get(ref.app, ref.tag)
        if found is None:
            raise errors.UnknownArtifact(f"no artifact {ref.text}", "see what exists with `promobot list`")
        return found
    if ref.tag is not None:
        return _one(uow.artifacts.with_tag(ref.tag), ref, pipeline)
    if ref.sha is not None:
        return _one(uow.artifacts.with_revision_prefix(ref.sha), ref, pipeline)
    raise errors.InvalidReference(f"{ref.text!r} names no artifact", USAGE)


def _running(uow: ports.UnitOfWork, pipeline: Pipeline, app: str, env: str) -> Artifact:
    pipeline.env(env)
    current = uow.deployments.current(app, env)
    if current is None:
        raise errors.UnknownArtifact(f"{env} runs nothing for {app}", "see `promobot list`")
    found = uow.artifacts.get(app, current.tag)
    if found is None:
        raise errors.UnknownArtifact(f"{current.artifact} runs in {env} but promobot has no record of its build")
    return found


def _one(candidates: list[Artifact], ref: ArtifactRef, pipeline: Pipeline) -> Artifact:
    if not candidates:
        raise errors.UnknownArtifact(f"no artifact matches {ref.text!r}", "see what exists with `promobot list`")
    apps = sorted({a.app for a in candidates})
    if len(apps) > 1:
        raise errors.AmbiguousReference(
            f"{ref.text!r} matches artifacts of several apps: {', '.join(apps)}",
            f"write app:tag, e.g. {candidates[0].ref}",
        )
    sources = {a.source_revision for a in candidates}
    if len(sources) > 1:
        raise errors.AmbiguousReference(
            f"{ref.text!r} matches artifacts built from {len(sources)} different commits",
            "write more of the SHA, or app:tag",
        )
    # One source built in several environments: the one furthest along the pipeline.
    order = {env.tag_prefix: index for index, env in enumerate(pipeline.environments)}
    return max(candidates, key=lambda a: order.get(a.prefix, -1))
