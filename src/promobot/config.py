"""promobot's configuration: one YAML file, validated on load into typed settings.

Secrets never sit in the YAML: a user's API token names an environment variable or a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from promobot.domain import errors, refnames
from promobot.domain.artifacts import NAME
from promobot.domain.pipeline import App, Approval, ApprovalRule, Environment, Pipeline

DEFAULT_PATH = "promobot.yaml"
ENV_VAR = "PROMOBOT_CONFIG"

Name = Annotated[str, Field(pattern=NAME.pattern)]


def _git_branch_name(value: str) -> str:
    if not refnames.is_branch_name(value):
        raise ValueError(refnames.RULE)
    return value


RefName = Annotated[str, Field(max_length=100), AfterValidator(_git_branch_name)]


def _unique(kind: str, names: list[str]) -> None:
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"each {kind} must be unique; repeated: {', '.join(repeated)}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApprovalSettings(Strict):
    rule: ApprovalRule = ApprovalRule.NONE
    approvals: int = Field(default=1, ge=1, le=10)
    approvers: list[Name] = []

    @model_validator(mode="after")
    def _approvers_for_pull_requests(self) -> ApprovalSettings:
        if self.rule is ApprovalRule.PULL_REQUEST and not self.approvers:
            raise ValueError("a pull_request approval needs `approvers`: the roles allowed to approve")
        return self


class EnvironmentSettings(Strict):
    name: Name
    branch: RefName
    tag_prefix: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.]{0,30}$")]
    auto_deploy: bool = False
    approval: ApprovalSettings = ApprovalSettings()
    promoters: list[Name] = Field(min_length=1)


class AppSettings(Strict):
    name: Name
    repository: str = Field(min_length=1)
    image: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._/-]{0,127}$")]
    command: list[str] = ["python3", "app.py"]


class GitOpsSettings(Strict):
    repository: str = Field(min_length=1)
    branch: RefName = "main"
    path: str = "{env}/{app}/kustomization.yaml"

    @field_validator("path")
    @classmethod
    def _path_names_env_and_app(cls, value: str) -> str:
        if "{env}" not in value or "{app}" not in value or value.startswith("/") or ".." in value:
            raise ValueError("must be a relative path containing {env} and {app}")
        return value


class RegistrySettings(Strict):
    """`oci-layout` (embedded; needs `path`) or `distribution` (any OCI registry over HTTP; needs `url`)."""

    kind: Literal["oci-layout", "distribution"] = "oci-layout"
    path: str | None = Field(default=None, min_length=1)
    url: Annotated[str, Field(pattern=r"^https?://[^\s/?#@]+(/[^\s?#]*)?$")] | None = None
    username: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    password: TokenSource | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10)

    @model_validator(mode="after")
    def _what_the_kind_needs(self) -> RegistrySettings:
        if self.kind == "oci-layout" and self.path is None:
            raise ValueError("an oci-layout registry needs `path`: the directory holding the image layouts")
        if self.kind == "distribution" and self.url is None:
            raise ValueError("a distribution registry needs `url`, e.g. https://registry.example.com")
        if (self.username is None) != (self.password is None):
            raise ValueError("give both `username` and `password` (a token source), or neither")
        return self


class EngineSettings(Strict):
    kind: Literal["local"] = "local"
    workdir: str = Field(min_length=1)
    poll_seconds: float = Field(default=1.0, gt=0)
    health_timeout_seconds: float = Field(default=15.0, gt=0)


class BuilderSettings(Strict):
    kind: Literal["local", "none"] = "local"


class ServerSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8470, ge=1, le=65535)
    webhook_token: TokenSource


class TokenSource(Strict):
    env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")] | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> TokenSource:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of `env` (a variable name) or `file` (a path)")
        return self

    def read(self, base: Path) -> str:
        if self.env is not None:
            value = os.environ.get(self.env, "")
            where = f"environment variable {self.env}"
        else:
            path = base / Path(self.file or "")
            where = f"file {path}"
            try:
                value = path.read_text(encoding="utf-8")
            except OSError:
                value = ""
            except UnicodeDecodeError:
                raise errors.ConfigError(
                    f"cannot read a token from {where}", "it must be a readable UTF-8 text file"
                ) from None
        value = value.strip()
        if not value:
            raise errors.ConfigError(f"no token in {where}", "set it, or point the config at another source")
        return value


ServerSettings.model_rebuild()
RegistrySettings.model_rebuild()


class SlackChannelSettings(Strict):
    """Where operations are reported: an environment's channel, else the app's, else `default`."""

    default: Annotated[str, Field(min_length=1, max_length=80)]
    apps: dict[Name, Annotated[str, Field(min_length=1, max_length=80)]] = {}
    envs: dict[Name, Annotated[str, Field(min_length=1, max_length=80)]] = {}


class SlackSettings(Strict):
    """The Slack app: secrets from the environment or files; Socket Mode when `app_token` is given."""

    signing_secret: TokenSource
    bot_token: TokenSource
    app_token: TokenSource | None = None
    channels: SlackChannelSettings
    api_url: Annotated[str, Field(pattern=r"^https?://[^\s]+/$")] = "https://slack.com/api/"


class UserSettings(Strict):
    name: Name
    roles: list[Name] = Field(min_length=1)
    token: TokenSource
    slack_id: Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,30}$")] | None = None


class Settings(Strict):
    environments: list[EnvironmentSettings] = Field(min_length=1)
    apps: list[AppSettings] = Field(min_length=1)
    gitops: GitOpsSettings
    registry: RegistrySettings
    engine: EngineSettings
    builder: BuilderSettings = BuilderSettings()
    database: Annotated[str, Field(min_length=1)] = "sqlite:///promobot.db"
    server: ServerSettings
    users: list[UserSettings] = Field(min_length=1)
    state_dir: str = ".promobot"
    slack: SlackSettings | None = None

    @field_validator("environments")
    @classmethod
    def _unique_environments(cls, value: list[EnvironmentSettings]) -> list[EnvironmentSettings]:
        _unique("environment name", [e.name for e in value])
        _unique("environment branch", [e.branch for e in value])
        _unique("environment tag_prefix", [e.tag_prefix for e in value])
        return value

    @field_validator("apps")
    @classmethod
    def _unique_apps(cls, value: list[AppSettings]) -> list[AppSettings]:
        _unique("app name", [a.name for a in value])
        return value

    @field_validator("users")
    @classmethod
    def _unique_users(cls, value: list[UserSettings]) -> list[UserSettings]:
        _unique("user name", [u.name for u in value])
        return value

    def pipeline(self) -> Pipeline:
        return Pipeline(
            environments=tuple(
                Environment(
                    name=e.name,
                    branch=e.branch,
                    tag_prefix=e.tag_prefix,
                    auto_deploy=e.auto_deploy,
                    approval=Approval(e.approval.rule, e.approval.approvals, frozenset(e.approval.approvers)),
                    promoters=frozenset(e.promoters),
                )
                for e in self.environments
            ),
            apps=tuple(App(a.name, a.repository, a.image) for a in self.apps),
        )


class Loaded(BaseModel):
    """Settings plus the directory relative paths in them are read from."""

    model_config = ConfigDict(frozen=True)
    settings: Settings
    base: Path
    path: Path

    def resolve(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else (self.base / path)


def locate(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get(ENV_VAR) or DEFAULT_PATH)


def load(explicit: str | None = None) -> Loaded:
    """Read and validate the config; a ConfigError names the key and what is expected."""
    path = locate(explicit)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise errors.ConfigError(
            f"no config file at {path}",
            f"pass --config, set {ENV_VAR}, or create one with `promobot sandbox DIR`",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise errors.ConfigError(f"cannot read {path} ({reason})", "it must be a readable UTF-8 YAML file") from None
    except yaml.YAMLError as exc:
        raise errors.ConfigError(f"{path} is not valid YAML: {_yaml_problem(exc)}") from None
    return parse(raw, path=path)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)


def parse(raw: object, *, path: Path) -> Loaded:
    if not isinstance(raw, dict):
        raise errors.ConfigError(f"{path} must hold a mapping of settings at the top level")
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        raise errors.ConfigError(f"{path}: {key}: {message}") from None
    return Loaded(settings=settings, base=path.resolve().parent, path=path.resolve())
