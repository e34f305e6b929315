"""Whatever a person types, the grammar and the reference parser either refuse it with promobot's own error
(one line) or accept only names, tags and SHAs from their allow-lists; the branch and ref-name checks accept
only what git itself takes as a branch name and never anything that starts with `-`."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promobot.adapters.git import names
from promobot.domain import errors, grammar, refnames
from promobot.domain.artifacts import NAME, SHA_PREFIX, TAG, ArtifactRef, parse_ref
from support import tally
from support.hostile_data import FUZZ, TYPED

SUITE = "hostile input"
MANY = settings(FUZZ, max_examples=1000)
REF_TEXT = (
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
    | st.text("abz09-._/@:~^{}\\ *?[", max_size=30)
    | st.sampled_from(["HEAD", "-x", "a/.b", "a.lock", "a//b", "@", "a@{b", "refs/heads/x", "x/"])
)


def _one_line(exc: errors.PromobotError) -> None:
    assert exc.message.strip() and "\n" not in exc.message


def _allowed(ref: ArtifactRef) -> None:
    assert ref.app is None or NAME.match(ref.app)
    assert ref.env is None or NAME.match(ref.env)
    assert ref.tag is None or (TAG.match(ref.tag) and not ref.tag.startswith("-"))
    assert ref.sha is None or SHA_PREFIX.match(ref.sha)


@given(
    text=TYPED
    | st.sampled_from(["/promote", "/rollback", "/diff", "/promobot history", "/lock"]).flatmap(
        lambda verb: TYPED.map(lambda rest: f"{verb} {rest}")
    )
)
@MANY
def test_any_typed_line_is_a_command_of_allowed_names_or_one_clear_refusal(text: str) -> None:
    tally.add(SUITE, "fuzz cases")
    try:
        command = grammar.parse(text)
    except errors.InvalidCommand as exc:
        _one_line(exc)
        return
    match command:
        case grammar.Promote(artifact, env) | grammar.Rollback(artifact, env):
            _allowed(parse_ref(artifact, allow_bare_app=isinstance(command, grammar.Rollback)))
            assert env is None or NAME.match(env)
        case grammar.Diff(src, dst, app):
            assert all(NAME.match(name) for name in (src, dst, app or "web"))
        case grammar.History(app, env):
            assert NAME.match(app) and NAME.match(env)
        case grammar.Lock(env) | grammar.Unlock(env):
            assert NAME.match(env)
        case grammar.Approve(number) | grammar.Status(number):
            assert 0 < number < grammar.MAX_ID


@given(text=REF_TEXT | TYPED, bare=st.booleans())
@MANY
def test_any_reference_is_refused_clearly_or_made_of_allowed_names_only(text: str, bare: bool) -> None:
    tally.add(SUITE, "fuzz cases")
    try:
        ref = parse_ref(text, allow_bare_app=bare)
    except errors.InvalidReference as exc:
        _one_line(exc)
        return
    _allowed(ref)


def _git_takes_as_branch(name: str) -> bool:
    done = subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True, check=False)
    return done.returncode == 0


@given(text=REF_TEXT)
@settings(FUZZ, max_examples=300)
def test_a_branch_name_promobot_accepts_is_one_git_accepts_and_never_an_option(text: str) -> None:
    tally.add(SUITE, "fuzz cases")
    accepted = [check(text) for check in (refnames.is_branch_name, _names_accepts)]
    if any(accepted):
        assert not text.startswith("-")
        assert _git_takes_as_branch(text), text


def _names_accepts(text: str) -> bool:
    try:
        names.branch(text)
    except errors.InvalidReference as exc:
        _one_line(exc)
        return False
    return True


@given(text=REF_TEXT | st.text("0123456789abcdefABCDEF", max_size=45))
@MANY
def test_a_commit_id_promobot_accepts_is_lower_case_hex_only(text: str) -> None:
    tally.add(SUITE, "fuzz cases")
    for check, sizes in ((names.sha, (40,)), (names.sha_prefix, range(4, 41))):
        try:
            check(text)
        except errors.InvalidReference as exc:
            _one_line(exc)
            continue
        assert len(text) in sizes and set(text) <= set("0123456789abcdef")


@pytest.mark.parametrize("name", ["-x", "--upload-pack=x", "a/-b", "a..b", "a.lock", "a/", "HEAD", "@{-1}", "a b", "é"])
def test_names_that_git_could_misread_are_refused_as_branches(name: str) -> None:
    assert not refnames.is_branch_name(name)
    with pytest.raises(errors.InvalidReference):
        names.branch(name)
