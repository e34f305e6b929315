"""The ordered pipeline of environments and the rules each one carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from promobot.domain import errors


class WhenLocked(StrEnum):
    """What a promotion into a locked environment meets: it waits until unlocked, or it is refused."""

    WAIT = "wait"
    REFUSE = "refuse"


class ApprovalRule(StrEnum):
    NONE = "none"
    PULL_REQUEST = "pull_request"


@dataclass(frozen=True)
class Approval:
    rule: ApprovalRule = ApprovalRule.NONE
    approvals: int = 0
    approvers: frozenset[str] = frozenset()  # roles allowed to approve

    @property
    def required(self) -> bool:
        return self.rule is ApprovalRule.PULL_REQUEST


@dataclass(frozen=True)
class Environment:
    name: str
    branch: str
    tag_prefix: str
    auto_deploy: bool = False
    approval: Approval = field(default_factory=Approval)
    promoters: frozenset[str] = frozenset()  # roles allowed to promote or roll back into it
    lockers: frozenset[str] = frozenset()  # roles allowed to lock and unlock it (empty: its promoters)
    when_locked: WhenLocked = WhenLocked.REFUSE

    @property
    def lock_roles(self) -> frozenset[str]:
        return self.lockers or self.promoters


@dataclass(frozen=True)
class App:
    name: str
    repository: str
    image: str


@dataclass(frozen=True)
class Pipeline:
    environments: tuple[Environment, ...]
    apps: tuple[App, ...]

    def env(self, name: str) -> Environment:
        for env in self.environments:
            if env.name == name:
                return env
        raise errors.UnknownEnvironment(f"unknown environment {name!r}", f"use one of: {', '.join(self.env_names)}")

    def app(self, name: str) -> App:
        found = self._apps_by_name.get(name)
        if found is not None:
            return found
        raise errors.UnknownApp(f"unknown app {name!r}", f"use one of: {', '.join(self.app_names)}")

    @cached_property
    def _apps_by_name(self) -> dict[str, App]:
        """Every app by its name: each webhook names one, and an installation has a thousand."""
        return {app.name: app for app in reversed(self.apps)}  # the first of a name, as a scan finds

    @property
    def env_names(self) -> list[str]:
        return [env.name for env in self.environments]

    @property
    def app_names(self) -> list[str]:
        return [app.name for app in self.apps]

    @property
    def first(self) -> Environment:
        return self.environments[0]

    def position(self, env: Environment) -> int:
        return self.environments.index(env)

    def next_after(self, env: Environment) -> Environment:
        index = self.position(env)
        if index + 1 >= len(self.environments):
            raise errors.NothingToDo(
                f"{env.name!r} is the last environment; there is nothing after it",
                "name a target environment explicitly",
            )
        return self.environments[index + 1]

    def env_by_prefix(self, prefix: str) -> Environment | None:
        return next((env for env in self.environments if env.tag_prefix == prefix), None)

    def env_by_branch(self, branch: str) -> Environment | None:
        return next((env for env in self.environments if env.branch == branch), None)
