"""Git over HTTPS with a username and token: fetch, push and pin against a real smart-HTTP server that wants
Basic auth; a wrong or missing token is one clear line that never shows a secret; a rotated token file is
read again without a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from promobot.adapters.git import credentials
from promobot.adapters.git.app_repo import GitAppRepo
from promobot.adapters.git.gitops_repo import GitOpsGitRepo
from promobot.domain import errors
from promobot.domain.deployments import Pin
from support import git_http
from support.git_http import GitHttpServer

if TYPE_CHECKING:
    from conftest import Scratch

WRONG = "ghs_Wrong0Token0Zq9"
DIGEST = "sha256:" + "ab" * 32


def https(server: GitHttpServer, token: str | None = None) -> credentials.Https:
    return credentials.Https(server.username, lambda: token or server.token)


def files_holding(root: Path, secret: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_an_app_repository_fetches_and_pushes_over_https_with_a_token(
    http_remote: GitHttpServer, scratch: Scratch, tmp_path: Path
) -> None:
    first = scratch.commit("develop", {"app.py": "v1"})
    repo = GitAppRepo(http_remote.url("web.git"), tmp_path / "mirror.git", credential=https(http_remote))

    repo.refresh()
    assert repo.branch_head("develop") == first
    promoted = repo.create_commit(tree_of=first, parents=[first], message="Promote to qa")
    repo.push_branch("qa", promoted, expected=None)
    assert repo.push_tag("qa-1", promoted) == promoted

    assert scratch.remote_head("refs/heads/qa") == promoted
    assert scratch.remote_head("refs/tags/qa-1") == promoted
    assert any(seen.method == "POST" and "receive-pack" in seen.target for seen in http_remote.requests)
    assert all(http_remote.token not in seen.target for seen in http_remote.requests)
    assert files_holding(tmp_path / "mirror.git", http_remote.token) == []  # not in the mirror's config


def test_the_gitops_repository_writes_and_reads_pins_over_https(
    http_remote: GitHttpServer, bare: Path, tmp_path: Path
) -> None:
    gitops = GitOpsGitRepo(
        http_remote.url(bare.name),
        tmp_path / "gitops.git",
        branch="main",
        envs=["qa"],
        apps={"web": "ghcr.io/example/web"},
        credential=https(http_remote),
    )
    pin = Pin(image="ghcr.io/example/web", tag="qa-1a2b3c4", digest=DIGEST)

    commit = gitops.write_pin("qa", "web", pin, message="Pin web:qa-1a2b3c4 in qa")

    assert commit is not None and gitops.head() == commit
    assert gitops.read_pins() == {("qa", "web"): pin}


def test_a_wrong_token_is_one_line_saying_authentication_failed_without_any_secret(
    http_remote: GitHttpServer, scratch: Scratch, tmp_path: Path
) -> None:
    scratch.commit("develop", {"app.py": "v1"})
    repo = GitAppRepo(http_remote.url("web.git"), tmp_path / "mirror.git", credential=https(http_remote, WRONG))

    with pytest.raises(errors.TemporaryError) as caught:
        repo.refresh()

    text = f"{caught.value} {caught.value.hint}"
    assert "\n" not in text
    assert text.startswith("could not fetch from the git remote: fatal: Authentication failed for")
    assert WRONG not in text and http_remote.token not in text
    assert any(seen.authorization and not seen.accepted for seen in http_remote.requests)


def test_without_a_credential_git_never_waits_for_a_prompt_and_says_why(
    http_remote: GitHttpServer, scratch: Scratch, tmp_path: Path
) -> None:
    scratch.commit("develop", {"app.py": "v1"})
    repo = GitAppRepo(http_remote.url("web.git"), tmp_path / "mirror.git")

    with pytest.raises(errors.TemporaryError, match=r"could not read Username .*terminal prompts disabled"):
        repo.refresh()


def test_a_rotated_token_file_is_read_again_on_the_next_fetch(
    http_remote: GitHttpServer, scratch: Scratch, tmp_path: Path
) -> None:
    token_file = tmp_path / "git-token"
    token_file.write_text(http_remote.token + "\n")
    credential = credentials.Https(http_remote.username, lambda: token_file.read_text().strip())
    repo = GitAppRepo(http_remote.url("web.git"), tmp_path / "mirror.git", credential=credential)
    scratch.commit("develop", {"app.py": "v1"})
    repo.refresh()

    http_remote.token = "ghs_Rotated0Token0Zq9"  # the forge issues a new installation token
    with pytest.raises(errors.TemporaryError, match="Authentication failed"):
        repo.refresh()
    token_file.write_text(http_remote.token)  # the mounted Secret is updated
    second = scratch.commit("develop", {"app.py": "v2"})
    repo.refresh()

    assert repo.branch_head("develop") == second


def test_the_token_is_not_offered_to_another_host_a_redirect_points_at(
    http_remote: GitHttpServer, bare: Path, tmp_path: Path
) -> None:
    elsewhere = GitHttpServer(bare.parent, username=http_remote.username, token=http_remote.token)
    with git_http.serve(elsewhere):
        mover = GitHttpServer(bare.parent, username="nobody", token="-", redirect_to=elsewhere.base_url)
        with git_http.serve(mover):
            repo = GitAppRepo(mover.url("web.git"), tmp_path / "mirror.git", credential=https(http_remote))
            with pytest.raises(errors.TemporaryError, match="could not read Username"):
                repo.refresh()
    assert elsewhere.requests and all(not seen.authorization for seen in elsewhere.requests)


def test_credentials_written_into_a_remote_url_are_hidden_in_the_failure(tmp_path: Path) -> None:
    repo = GitAppRepo("http://deploy:inline-Secret-42@127.0.0.1:9/web.git", tmp_path / "mirror.git")

    with pytest.raises(errors.TemporaryError) as caught:
        repo.refresh()

    assert "inline-Secret-42" not in str(caught.value)
    assert "could not fetch from the git remote" in str(caught.value)
