"""Git over SSH with a private key checked against known hosts, against a real sshd on loopback: fetch and
push work; an unknown host key or a key the server refuses is one clear line; strict checking off
remembers a host seen for the first time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from promobot.adapters.git import credentials
from promobot.adapters.git.app_repo import GitAppRepo
from promobot.domain import errors
from support import ssh_server
from support.ssh_server import SshServer

if TYPE_CHECKING:
    from conftest import Scratch


def known_hosts(server: SshServer, where: Path, text: str | None = None) -> Path:
    where.write_text(server.known_hosts_line() if text is None else text)
    return where


def test_an_app_repository_fetches_and_pushes_over_ssh_with_a_key_and_known_hosts(
    sshd: SshServer, bare: Path, scratch: Scratch, tmp_path: Path
) -> None:
    first = scratch.commit("develop", {"app.py": "v1"})
    key = credentials.Ssh(sshd.client_key, known_hosts(sshd, sshd.client_key.parent / "known hosts"))
    repo = GitAppRepo(sshd.url(bare), tmp_path / "mirror.git", credential=key)

    repo.refresh()
    promoted = repo.create_commit(tree_of=first, parents=[first], message="Promote to qa")
    repo.push_branch("qa", promoted, expected=None)

    assert repo.branch_head("develop") == first
    assert scratch.remote_head("refs/heads/qa") == promoted
    assert any("Accepted publickey" in line for line in sshd.log)


def test_a_host_key_not_in_known_hosts_is_refused_in_one_line(
    sshd: SshServer, bare: Path, scratch: Scratch, tmp_path: Path
) -> None:
    scratch.commit("develop", {"app.py": "v1"})
    impostor = ssh_server.keypair(tmp_path / "impostor")
    line = f"[127.0.0.1]:{sshd.port} {' '.join(impostor.with_suffix('.pub').read_text().split()[:2])}\n"
    key = credentials.Ssh(sshd.client_key, known_hosts(sshd, tmp_path / "known_hosts", line))
    repo = GitAppRepo(sshd.url(bare), tmp_path / "mirror.git", credential=key)

    with pytest.raises(errors.TemporaryError) as caught:
        repo.refresh()

    assert str(caught.value) == "could not fetch from the git remote: Host key verification failed."


def test_a_host_missing_from_known_hosts_is_refused_while_checking_is_strict(
    sshd: SshServer, bare: Path, tmp_path: Path
) -> None:
    empty = known_hosts(sshd, tmp_path / "known_hosts", "")
    repo = GitAppRepo(sshd.url(bare), tmp_path / "mirror.git", credential=credentials.Ssh(sshd.client_key, empty))

    with pytest.raises(errors.TemporaryError, match="Host key verification failed"):
        repo.refresh()
    assert empty.read_text() == ""


def test_with_strict_checking_off_a_new_host_is_accepted_and_remembered(
    sshd: SshServer, bare: Path, scratch: Scratch, tmp_path: Path
) -> None:
    first = scratch.commit("develop", {"app.py": "v1"})
    remembered = tmp_path / "state" / "known_hosts"
    remembered.parent.mkdir()
    key = credentials.Ssh(sshd.client_key, remembered, strict=False)
    repo = GitAppRepo(sshd.url(bare), tmp_path / "mirror.git", credential=key)

    repo.refresh()

    assert repo.branch_head("develop") == first
    assert sshd.host_key.with_suffix(".pub").read_text().split()[1] in remembered.read_text()


def test_a_key_the_server_does_not_know_is_refused_in_one_line(
    sshd: SshServer, bare: Path, tmp_path: Path
) -> None:
    stranger = ssh_server.keypair(tmp_path / "stranger")
    key = credentials.Ssh(stranger, known_hosts(sshd, tmp_path / "known_hosts"))
    repo = GitAppRepo(sshd.url(bare), tmp_path / "mirror.git", credential=key)

    with pytest.raises(errors.TemporaryError) as caught:
        repo.refresh()

    assert str(caught.value).startswith("could not fetch from the git remote: ")
    assert str(caught.value).endswith("Permission denied (publickey).")


def test_the_ssh_command_names_the_key_and_known_hosts_quoted_and_checks_strictly() -> None:
    command = credentials.ssh_command(credentials.Ssh(Path("/etc/promobot/git/id key"), Path("/etc/kh")))

    assert command == (
        "ssh -i '/etc/promobot/git/id key' -o IdentitiesOnly=yes -o UserKnownHostsFile=/etc/kh "
        "-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes"
    )
