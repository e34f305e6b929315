"""Artifact references as people type them: every accepted form, every refused one, and derived tags."""

from __future__ import annotations

import pytest

from promobot.domain import errors
from promobot.domain.artifacts import USAGE, Artifact, ArtifactRef, artifact_tag, parse_ref

SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("web:dev-1a2b3c4", ArtifactRef("web:dev-1a2b3c4", app="web", tag="dev-1a2b3c4")),
        ("api-gw:qa-0000000", ArtifactRef("api-gw:qa-0000000", app="api-gw", tag="qa-0000000")),
        ("my.app_2:prod-abcdef0", ArtifactRef("my.app_2:prod-abcdef0", app="my.app_2", tag="prod-abcdef0")),
        ("dev-1a2b3c4", ArtifactRef("dev-1a2b3c4", tag="dev-1a2b3c4")),
        ("pre-prod-1a2b3c4", ArtifactRef("pre-prod-1a2b3c4", tag="pre-prod-1a2b3c4")),
        ("1a2b", ArtifactRef("1a2b", sha="1a2b")),
        ("1a2b3c4", ArtifactRef("1a2b3c4", sha="1a2b3c4")),
        (SHA, ArtifactRef(SHA, sha=SHA)),
        ("web@qa", ArtifactRef("web@qa", app="web", env="qa")),
        ("web@pre-prod", ArtifactRef("web@pre-prod", app="web", env="pre-prod")),
    ],
)
def test_parse_ref_accepts_every_documented_form(text: str, expected: ArtifactRef) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize("length", range(4, 41))
def test_a_sha_prefix_of_any_length_from_4_to_40_is_read_as_a_commit(length: int) -> None:
    assert parse_ref(SHA[:length]).sha == SHA[:length]


def test_surrounding_whitespace_is_ignored_and_not_kept_in_the_reference() -> None:
    assert parse_ref("  web:dev-1a2b3c4\t\n") == ArtifactRef("web:dev-1a2b3c4", app="web", tag="dev-1a2b3c4")


def test_a_bare_app_is_accepted_only_when_the_caller_allows_it() -> None:
    assert parse_ref("web", allow_bare_app=True) == ArtifactRef("web", app="web")
    with pytest.raises(errors.InvalidReference):
        parse_ref("web")


def test_allowing_a_bare_app_still_reads_the_other_forms_as_before() -> None:
    for text in ("web:dev-1a2b3c4", "dev-1a2b3c4", "1a2b3c4", "web@qa"):
        assert parse_ref(text, allow_bare_app=True) == parse_ref(text)


REFUSED = [
    "",
    "   ",
    "\t\n",
    "--output=x",
    "-x",
    "-1a2b3c4",
    "--",
    "web:dev-1a2b3c4 --force",
    "web dev-1a2b3c4",
    "web:dev-1a2b3c4\x00",
    "web:dev\x1b[31m-1a2b3c4",
    "web\r:dev-1a2b3c4",
    "web@q\ta",
    "web:",
    "web:nodash",
    "web:-dev-1a2b3c4",
    "web:dev-1a2b3c4:extra",
    ":dev-1a2b3c4",
    "@qa",
    "web@",
    "web@qa@prod",
    "web@-qa",
    "Web:dev-1a2b3c4",
    "WEB@qa",
    "Web@qa",
    SHA + "e",
    "1a2",
    "..",
    "../etc/passwd",
    "web/../../x",
    "dev-",
    "web;rm -rf /",
    "wéb:dev-1a2b3c4",
]


@pytest.mark.parametrize("text", REFUSED)
def test_parse_ref_refuses_what_is_not_a_reference(text: str) -> None:
    with pytest.raises(errors.InvalidReference):
        parse_ref(text)


# Forms that are legal app names (`1a2`, `dev-`, 41 hex digits) become a bare app when that is allowed.
NOT_EVEN_AN_APP = [t for t in REFUSED if t not in ("1a2", "dev-", SHA + "e")] + ["Web", "a" * 64]


@pytest.mark.parametrize("text", NOT_EVEN_AN_APP)
def test_parse_ref_refuses_the_same_forms_when_a_bare_app_is_allowed(text: str) -> None:
    with pytest.raises(errors.InvalidReference):
        parse_ref(text, allow_bare_app=True)


@pytest.mark.parametrize("text", ["", "  ", "--output=x", "-x", "web\x00", "web:nodash", "web:", "..", SHA + "e"])
def test_a_refused_reference_lists_the_forms_that_are_accepted(text: str) -> None:
    with pytest.raises(errors.InvalidReference) as caught:
        parse_ref(text)
    assert caught.value.hint == USAGE
    for form in ("web:dev-1a2b3c4", "dev-1a2b3c4", "SHA prefix", "web@qa"):
        assert form in str(caught.value)


@pytest.mark.parametrize(("text", "part"), [("@qa", "app"), ("web@", "environment"), ("Web:dev-1a2b3c4", "app")])
def test_a_refused_name_says_which_part_is_wrong_and_what_names_look_like(text: str, part: str) -> None:
    with pytest.raises(errors.InvalidReference) as caught:
        parse_ref(text)
    assert f"not a valid {part} name" in str(caught.value)
    assert "lower-case letters, digits" in str(caught.value)


def test_a_refused_reference_quotes_what_was_typed_so_control_characters_are_visible() -> None:
    with pytest.raises(errors.InvalidReference) as caught:
        parse_ref("dev-1a2b3c4\x1b")
    assert "\\x1b" in caught.value.message
    assert "\x1b" not in str(caught.value)


def test_invalid_reference_has_a_stable_code_for_the_api() -> None:
    assert errors.InvalidReference("x").code == "invalid_reference"


@pytest.mark.parametrize(
    ("prefix", "revision", "tag"),
    [
        ("dev", SHA, "dev-1a2b3c4"),
        ("qa", "1a2b3c4", "qa-1a2b3c4"),
        ("prod", "abc", "prod-abc"),
        ("v1.2", SHA, "v1.2-1a2b3c4"),
    ],
)
def test_artifact_tag_is_the_environment_prefix_and_the_short_source_sha(prefix: str, revision: str, tag: str) -> None:
    assert artifact_tag(prefix, revision) == tag


def test_an_artifact_tag_parses_back_as_a_tag_reference() -> None:
    tag = artifact_tag("qa", SHA)
    assert parse_ref(f"web:{tag}") == ArtifactRef(f"web:{tag}", app="web", tag=tag)
    assert parse_ref(tag).tag == tag


def _artifact(tag: str) -> Artifact:
    return Artifact(app="web", tag=tag, digest="sha256:" + "0" * 64, source_revision=SHA, revision=SHA)


def test_an_artifact_ref_is_app_colon_tag() -> None:
    assert _artifact("qa-1a2b3c4").ref == "web:qa-1a2b3c4"


@pytest.mark.parametrize(
    ("tag", "prefix"),
    [
        ("dev-1a2b3c4", "dev"),
        ("qa-1a2b3c4", "qa"),
        ("v1.2-1a2b3c4", "v1.2"),
        ("pre-prod-1a2b3c4", "pre-prod"),
        ("a-b-c-1a2b3c4", "a-b-c"),
    ],
)
def test_an_artifact_prefix_is_everything_before_the_last_dash(tag: str, prefix: str) -> None:
    assert _artifact(tag).prefix == prefix


def test_an_artifact_prefix_round_trips_through_artifact_tag() -> None:
    for prefix in ("dev", "qa", "pre-prod", "v1.2"):
        assert _artifact(artifact_tag(prefix, SHA)).prefix == prefix
