"""What git says when it fails reaches people as one line, without a secret or a URL's credentials, and
names the reason (ssh's own line, not git's closing advice)."""

from __future__ import annotations

import pytest

from promobot.adapters import gitcli

SSH_FAILURE = """\
No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.
Host key verification failed.
fatal: Could not read from remote repository.

Please make sure you have the correct access rights
and the repository exists.
"""


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("fatal: unable to access 'https://bot:ghp_Tok3n@github.com/a/b.git/': 403", "https://***@github.com/a/b.git/"),
        ("fatal: repository 'http://oauth2:glpat-x@gitlab.local/g/p.git/' not found", "http://***@gitlab.local/g/p"),
        ("To ssh://git:hunter2@host/a.git", "ssh://***@host/a.git"),
    ],
)
def test_credentials_in_a_url_are_hidden(text: str, shown: str) -> None:
    scrubbed = gitcli.scrub(text)
    assert shown in scrubbed
    assert not any(secret in scrubbed for secret in ("ghp_Tok3n", "glpat-x", "hunter2", "bot:", "oauth2:"))


def test_a_known_secret_is_hidden_wherever_it_appears() -> None:
    assert gitcli.scrub("remote: token s3cr3t rejected (s3cr3t)", ["s3cr3t", ""]) == "remote: token *** rejected (***)"


def test_the_reason_of_an_ssh_failure_is_the_line_ssh_wrote() -> None:
    assert gitcli.reason(SSH_FAILURE) == "Host key verification failed."


def test_a_failed_git_command_is_one_scrubbed_line_and_keeps_the_scrubbed_output() -> None:
    failure = gitcli.GitFailed(
        ["push"], "remote: bad token ghs_abc\nfatal: unable to access 'https://x:ghs_abc@h/r.git/'\n", 128,
        secrets=["ghs_abc"],
    )  # fmt: skip
    assert str(failure) == "git push failed: fatal: unable to access 'https://***@h/r.git/'"
    assert "ghs_abc" not in failure.stderr
