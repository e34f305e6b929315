"""Credentials for git remotes: HTTPS with a username and a token, or SSH with a key and known hosts.

The secret reaches only the git child process, through its environment: never argv (which `ps` shows),
never a URL, never the mirror's config. HTTPS uses a credential helper given in `GIT_CONFIG_*`
variables and scoped to the remote's origin, which prints the username and token from the child's own
environment; SSH uses `GIT_SSH_COMMAND` with the key, the known-hosts file and strict host key checking.
A token is read again on each use, so a rotated token file is picked up without a restart.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

USERNAME_VAR = "PROMOBOT_GIT_USERNAME"
PASSWORD_VAR = "PROMOBOT_GIT_PASSWORD"
# Run by git through the shell; answers `get` only (git also calls `store` and `erase`).
HELPER = (
    '!f() { test "$1" = get || return 0; '
    f'printf "username=%s\\npassword=%s\\n" "${USERNAME_VAR}" "${PASSWORD_VAR}"; }}; f'
)


@dataclass(frozen=True)
class Https:
    """A username and a token (GitHub: `x-access-token` and an installation token or PAT)."""

    username: str
    password: Callable[[], str] = field(repr=False)  # read on every use: token rotation


@dataclass(frozen=True)
class Ssh:
    """A private key file and the known hosts to check the server against."""

    private_key: Path
    known_hosts: Path
    strict: bool = True  # False: accept a host seen for the first time and remember it (accept-new)


Credential = Https | Ssh


@dataclass(frozen=True)
class Access:
    """What one git process needs to reach a remote: environment variables, and the secrets in them."""

    env: dict[str, str] = field(default_factory=dict, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)


NONE = Access()


def access(credential: Credential | None, remote: str) -> Access:
    """The environment for one git process that talks to `remote` with `credential`."""
    if isinstance(credential, Https):
        secret = credential.password()
        return Access(
            env={
                "GIT_CONFIG_COUNT": "2",
                "GIT_CONFIG_KEY_0": "credential.helper",  # an empty value drops helpers from other config
                "GIT_CONFIG_VALUE_0": "",
                "GIT_CONFIG_KEY_1": f"credential.{origin(remote)}.helper",
                "GIT_CONFIG_VALUE_1": HELPER,
                USERNAME_VAR: credential.username,
                PASSWORD_VAR: secret,
            },
            secrets=(secret,),
        )
    if isinstance(credential, Ssh):
        return Access(env={"GIT_SSH_COMMAND": ssh_command(credential), "GIT_SSH_VARIANT": "ssh"})
    return NONE


def ssh_command(credential: Ssh) -> str:
    """The ssh command line git runs (through the shell, so every path is quoted)."""
    checking = "yes" if credential.strict else "accept-new"
    options = [
        "-i",
        str(credential.private_key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        f"UserKnownHostsFile={_ssh_option_value(credential.known_hosts)}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        f"StrictHostKeyChecking={checking}",
        "-o",
        "BatchMode=yes",
    ]
    return shlex.join(["ssh", *options])


def _ssh_option_value(path: Path) -> str:
    """A path as an ssh `-o` value: ssh splits values at spaces unless they are in double quotes."""
    text = str(path)
    return f'"{text}"' if any(c.isspace() for c in text) else text


def origin(remote: str) -> str:
    """`scheme://host[:port]` of an HTTP(S) remote, without any user part."""
    parts = urlsplit(remote)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


@dataclass(frozen=True)
class Rule:
    """A credential for every remote whose URL starts with `prefix`."""

    prefix: str
    credential: Credential


def pick(rules: Sequence[Rule], remote: str) -> Credential | None:
    """The credential of the longest prefix `remote` starts with, or None (git then needs none)."""
    found = [rule for rule in rules if remote.startswith(rule.prefix)]
    return max(found, key=lambda rule: len(rule.prefix)).credential if found else None
