"""Token sources: a secret comes from an environment variable or a file, and errors never show it."""

from __future__ import annotations

from pathlib import Path

import pytest

from promobot.config import TokenSource
from promobot.domain import errors

SECRET = "s3cr3t-token-value-Zq9"
VARIABLE = "PROMOBOT_TEST_TOKEN_SOURCE"


def test_a_token_is_read_from_the_named_environment_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(VARIABLE, f"  {SECRET}\n")
    assert TokenSource(env=VARIABLE).read(tmp_path) == SECRET


def test_a_token_is_read_from_a_file_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "tokens").mkdir()
    (tmp_path / "tokens" / "alice.token").write_text(SECRET + "\n", encoding="utf-8")
    assert TokenSource(file="tokens/alice.token").read(tmp_path) == SECRET


def test_a_token_file_given_as_an_absolute_path_is_read_from_there(tmp_path: Path) -> None:
    token = tmp_path / "abs.token"
    token.write_text(SECRET, encoding="utf-8")
    assert TokenSource(file=str(token)).read(Path("/somewhere/else")) == SECRET


@pytest.mark.parametrize("value", [None, "", "   \n\t"])
def test_an_unset_or_blank_variable_is_a_config_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(VARIABLE, raising=False)
    else:
        monkeypatch.setenv(VARIABLE, value)
    with pytest.raises(errors.ConfigError) as caught:
        TokenSource(env=VARIABLE).read(tmp_path)
    assert str(caught.value) == (
        f"no token in environment variable {VARIABLE}; set it, or point the config at another source"
    )


@pytest.mark.parametrize("state", ["missing", "empty", "blank", "directory"])
def test_a_missing_or_empty_token_file_is_a_config_error_naming_the_file(tmp_path: Path, state: str) -> None:
    path = tmp_path / "web.token"
    if state == "empty":
        path.write_text("", encoding="utf-8")
    elif state == "blank":
        path.write_text("\n  \n", encoding="utf-8")
    elif state == "directory":
        path.mkdir()
    with pytest.raises(errors.ConfigError) as caught:
        TokenSource(file="web.token").read(tmp_path)
    assert str(caught.value).startswith(f"no token in file {path}; ")


def test_errors_about_one_token_never_show_another_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROMOBOT_TEST_OTHER_TOKEN", SECRET)
    (tmp_path / "present.token").write_text(SECRET, encoding="utf-8")
    for source in (TokenSource(env=VARIABLE), TokenSource(file="absent.token")):
        monkeypatch.delenv(VARIABLE, raising=False)
        with pytest.raises(errors.ConfigError) as caught:
            source.read(tmp_path)
        assert SECRET not in str(caught.value)
        assert SECRET not in repr(caught.value)


def test_a_token_file_that_is_not_utf8_is_a_config_error_that_does_not_show_its_content(tmp_path: Path) -> None:
    (tmp_path / "utf16.token").write_bytes(SECRET.encode("utf-16"))
    with pytest.raises(errors.ConfigError) as caught:
        TokenSource(file="utf16.token").read(tmp_path)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "fields", [{}, {"env": VARIABLE, "file": "x.token"}], ids=["neither-env-nor-file", "both-env-and-file"]
)
def test_a_token_source_needs_exactly_one_of_env_or_file(fields: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"give exactly one of `env` .* or `file`"):
        TokenSource(**fields)
