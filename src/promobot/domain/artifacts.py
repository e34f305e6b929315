"""Artifacts and the references people type for them.

An artifact is one image built from one commit of one environment branch, tagged
`<env tag prefix>-<source sha7>`: `web:qa-1a2b3c4`. People may write `web:qa-1a2b3c4`, `qa-1a2b3c4`
(when one app has it), a commit SHA prefix, or `web@qa` (whatever `qa` runs now).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from promobot.domain import errors

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
SHA_PREFIX = re.compile(r"^[0-9a-f]{4,40}$")
FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
SHORT = 7

USAGE = "write app:tag (web:dev-1a2b3c4), a tag (dev-1a2b3c4), a commit SHA prefix, or app@env (web@qa)"


def artifact_tag(prefix: str, source_revision: str) -> str:
    """The tag an environment's build of `source_revision` carries."""
    return f"{prefix}-{source_revision[:SHORT]}"


@dataclass(frozen=True)
class Artifact:
    app: str
    tag: str
    digest: str
    source_revision: str
    revision: str
    built_at: datetime | None = None

    @property
    def ref(self) -> str:
        return f"{self.app}:{self.tag}"

    @property
    def prefix(self) -> str:
        return self.tag.rsplit("-", 1)[0]


@dataclass(frozen=True)
class ArtifactRef:
    """A parsed reference; at most one of `tag`, `sha`, `env` is set, or none for a bare app."""

    text: str
    app: str | None = None
    tag: str | None = None
    sha: str | None = None
    env: str | None = None


def check_name(kind: str, value: str) -> str:
    if not NAME.match(value):
        raise errors.InvalidReference(
            f"{value!r} is not a valid {kind} name",
            "names are lower-case letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    return value


def parse_ref(text: str, *, allow_bare_app: bool = False) -> ArtifactRef:
    """Parse what a person typed. Raises InvalidReference with the accepted forms."""
    value = text.strip()
    if not value or value.startswith("-") or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise errors.InvalidReference(f"{text!r} is not an artifact reference", USAGE)
    if "@" in value:
        app, _, env = value.partition("@")
        return ArtifactRef(value, app=check_name("app", app), env=check_name("environment", env))
    if ":" in value:
        app, _, tag = value.partition(":")
        check_name("app", app)
        if not TAG.match(tag) or "-" not in tag:
            raise errors.InvalidReference(f"{tag!r} is not an artifact tag", USAGE)
        return ArtifactRef(value, app=app, tag=tag)
    if SHA_PREFIX.match(value):
        return ArtifactRef(value, sha=value)
    if "-" in value and TAG.match(value) and not value.endswith("-"):
        return ArtifactRef(value, tag=value)
    if allow_bare_app and NAME.match(value):
        return ArtifactRef(value, app=value)
    raise errors.InvalidReference(f"{text!r} is not an artifact reference", USAGE)
