"""Everything the use cases reach the world through, wired once by the bootstrap."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from promobot import ports
from promobot.domain import errors
from promobot.domain.people import User
from promobot.domain.pipeline import Pipeline
from promobot.service import recording
from promobot.service.batching import Batches


@dataclass(frozen=True)
class Timeouts:
    """How long the worker waits on the world; the bootstrap sets them from the config's `timeouts` section."""

    artifact: timedelta = timedelta(minutes=10)  # a promotion commit's build must appear within this
    deployment: timedelta = timedelta(minutes=5)  # the engine must report a result within this
    resync: timedelta = timedelta(seconds=30)  # while the engine runs another digest than the pin, sync again after
    resyncs: int = 5  # ... at most this many times; then the operation fails naming what to check


def _nothing() -> None:
    return None


def _pass(_: str) -> None:
    return None


@dataclass
class Context:
    pipeline: Pipeline
    users: Mapping[str, User]
    store: ports.Store
    repos: Mapping[str, ports.AppRepo]
    gitops: ports.GitOpsRepo
    forge: ports.Forge
    registry: ports.Registry
    engine: ports.Engine
    notifier: ports.Notifier
    clock: ports.Clock
    builder: ports.Builder | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    wake_worker: Callable[[], None] = _nothing
    checkpoint: Callable[[str], None] = _pass  # named fault points for crash tests (promobot.faults)
    forge_logins: Mapping[str, str] = field(default_factory=dict)  # forge login -> promobot user name
    merge_by_hand: bool = False  # the forge's pull requests are merged by a person, not by promobot
    report_batches: Batches[Any, Any] | None = None  # deployment reports' group commit (`delivering`)

    def __post_init__(self) -> None:
        self.store = recording.recording(self.store)  # operation changes audited, locks respected

    def repo(self, app: str) -> ports.AppRepo:
        self.pipeline.app(app)  # raises UnknownApp with the valid names
        return self.repos[app]

    def people_by_login(self) -> dict[str, User]:
        """Forge logins mapped to promobot users; a user's own name is their login unless configured."""
        found = {name: user for name, user in self.users.items()}
        found.update({login: self.users[name] for login, name in self.forge_logins.items() if name in self.users})
        return found

    def user(self, name: str) -> User:
        try:
            return self.users[name]
        except KeyError:
            raise errors.NotAuthenticated(f"unknown user {name!r}") from None
