"""Checks on the commit ids and ref names the git adapters take from callers, before git ever sees them.

Branch and tag names must match the configuration's allow-list and git's own ref-name rules, and no
component may start with `-`, so nothing a caller passes can be read by git as an option.
"""

from __future__ import annotations

import re

from promobot.adapters import gitcli
from promobot.domain import errors
from promobot.domain.artifacts import FULL_SHA, SHA_PREFIX

REF_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,100}$")
REPO_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,200}$")


def sha(value: str) -> str:
    """`value` if it is a full, lower-case 40-hex commit id."""
    if not isinstance(value, str) or not FULL_SHA.match(value):
        raise errors.InvalidReference(f"{value!r} is not a full commit SHA", "give all 40 hex digits")
    return value


def sha_prefix(value: str) -> str:
    if not isinstance(value, str) or not SHA_PREFIX.match(value):
        raise errors.InvalidReference(f"{value!r} is not a commit SHA prefix", "give 4 to 40 hex digits")
    return value


def ref_name(kind: str, value: str) -> str:
    """`value` if it is a safe branch or tag name (`kind` names which, for the message)."""
    if (
        not isinstance(value, str)
        or not REF_NAME.match(value)
        or any(not part or part[0] in "-." or part.endswith(".lock") for part in value.split("/"))
        or ".." in value
        or value.endswith(("/", "."))
        or value == "HEAD"
    ):
        raise errors.InvalidReference(
            f"{value!r} is not an allowed {kind} name", "use letters, digits and _ . / - (not first)"
        )
    return value


def branch(value: str) -> str:
    return ref_name("branch", value)


def tag(value: str) -> str:
    return ref_name("tag", value)


def repo_path(value: str) -> str:
    """A file path inside a repository: relative, no `..`, no component starting with `-` or `.`."""
    if not REPO_PATH.match(value) or any(not p or p[0] in "-." for p in value.split("/")):
        raise errors.ConfigError(f"{value!r} is not an allowed path in the GitOps repository")
    return value


def remote(value: str) -> str:
    """A remote URL or path that git cannot mistake for an option."""
    if not value or value.startswith("-") or any(c in value for c in "\n\r\0"):
        raise errors.ConfigError(f"{gitcli.scrub(repr(value))} is not a usable git remote")
    return value
