"""promobot's configuration: one YAML file, validated on load into typed settings.

Secrets never sit in the YAML: a user's API token names an environment variable or a file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from promobot.domain import errors, refnames
from promobot.domain.artifacts import NAME
from promobot.domain.pipeline import App, Approval, ApprovalRule, Environment, Pipeline, WhenLocked

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
    lockers: list[Name] = []  # roles allowed to /lock and /unlock it; empty: its promoters
    when_locked: WhenLocked = WhenLocked.REFUSE  # a promotion into it while locked: refused, or waits


def _no_credentials_in_url(value: str) -> str:
    """A repository URL holds no secret: an https user part, or any password, belongs in `git.credentials`."""
    scheme, sep, rest = value.partition("://")
    user_part = rest.split("/", 1)[0].rpartition("@")[0] if sep else ""
    if user_part and (scheme.lower() in ("http", "https") or ":" in user_part):
        raise ValueError("must not hold credentials; give them under `git.credentials` (docs/configuration.md)")
    return value


RepositoryUrl = Annotated[str, Field(min_length=1), AfterValidator(_no_credentials_in_url)]


class AppSettings(Strict):
    name: Name
    repository: RepositoryUrl
    image: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._/-]{0,127}$")]
    command: list[str] = ["python3", "app.py"]


class GitOpsSettings(Strict):
    repository: RepositoryUrl
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
    """The embedded local runtime: runs each environment's pinned image as a local process."""

    kind: Literal["local"] = "local"
    workdir: str = Field(min_length=1)
    poll_seconds: float = Field(default=1.0, gt=0)
    health_timeout_seconds: float = Field(default=15.0, gt=0)


def _name_template(value: str) -> str:
    if "{app}" not in value or "{env}" not in value:
        raise ValueError("must contain {app} and {env}, e.g. {app}-{env}")
    return value


NameTemplate = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_name_template)]
HttpUrl = Annotated[str, Field(pattern=r"^https?://[^\s/?#@]+(/[^\s?#]*)?$")]


class ArgoCDEngineSettings(Strict):
    """Argo CD: status and sync over its REST API; results from Argo CD Notifications."""

    kind: Literal["argocd"]
    url: HttpUrl
    token: TokenSource
    applications: NameTemplate = "{app}-{env}"
    project: Annotated[str, Field(min_length=1, max_length=253)] | None = None
    app_namespace: Annotated[str, Field(min_length=1, max_length=253)] | None = None
    verify_tls: bool = True
    timeout_seconds: float = Field(default=10.0, gt=0)


def _namespace_template(value: str) -> str:
    probe = value.replace("{env}", "env").replace("{app}", "app")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", probe):
        raise ValueError("must be a Kubernetes namespace name, optionally with {env} and {app}, e.g. flux-system")
    return value


class KubernetesSettings(Strict):
    """Where promobot reads Flux Kustomizations: its own cluster (`in_cluster`) or an API server by URL."""

    in_cluster: bool = False
    url: Annotated[str, Field(pattern=r"^https://[^\s/?#@]+(/[^\s?#]*)?$")] | None = None
    token_file: Annotated[str, Field(min_length=1)] | None = None
    ca_file: Annotated[str, Field(min_length=1)] | None = None
    environments: list[Name] = []  # empty: every environment's Kustomizations are in this cluster
    timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _one_way_in(self) -> KubernetesSettings:
        if self.in_cluster and (self.url or self.token_file or self.ca_file):
            raise ValueError("`in_cluster: true` reads the pod's service account: drop url, token_file and ca_file")
        if not self.in_cluster and (self.url is None or self.token_file is None):
            raise ValueError("give `in_cluster: true`, or `url` (https://...) and `token_file` (and `ca_file`)")
        return self


class FluxEngineSettings(Strict):
    """Flux: results from the notification-controller's generic-hmac provider; Kustomizations read live."""

    kind: Literal["flux"]
    webhook_secret: TokenSource
    kustomizations: NameTemplate = "{app}-{env}"
    namespace: Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_namespace_template)] = "flux-system"
    kubernetes: KubernetesSettings | None = None
    reconcile: bool = False  # annotate reconcile.fluxcd.io/requestedAt after each pin, as `flux reconcile` does

    @model_validator(mode="after")
    def _reconcile_needs_the_api(self) -> FluxEngineSettings:
        if self.reconcile and self.kubernetes is None:
            raise ValueError("`reconcile: true` needs `kubernetes`: promobot asks for it through the Kubernetes API")
        return self


ENGINE_KINDS = ("local", "argocd", "flux")


def _engine_kind(value: Any) -> str:
    kind = value.get("kind", "local") if isinstance(value, dict) else getattr(value, "kind", "local")
    return str(kind)


AnyEngineSettings = Annotated[
    Annotated[EngineSettings, Tag("local")]
    | Annotated[ArgoCDEngineSettings, Tag("argocd")]
    | Annotated[FluxEngineSettings, Tag("flux")],
    Discriminator(
        _engine_kind,
        custom_error_type="engine_kind",
        custom_error_message="`kind` must be one of local, argocd, flux",
    ),
]


class ForgeSettings(Strict):
    """Where pull requests live: the embedded forge (`local`), GitHub or GitLab."""

    kind: Literal["local", "github", "gitlab"] = "local"
    api_url: HttpUrl | None = None
    token: TokenSource | None = None
    webhook_secret: TokenSource | None = None
    merge: Literal["auto", "manual"] = "auto"
    repositories: dict[Name, Annotated[str, Field(min_length=1, max_length=255)] | int] = {}

    @model_validator(mode="after")
    def _what_the_kind_needs(self) -> ForgeSettings:
        if self.kind != "local" and self.token is None:
            raise ValueError(f"a {self.kind} forge needs `token`: a token source for its API token")
        if self.kind == "local" and (self.token or self.webhook_secret or self.repositories or self.api_url):
            raise ValueError("the local forge takes no `api_url`, `token`, `webhook_secret` or `repositories`")
        for app, repo in self.repositories.items():
            if self.kind == "github" and not (isinstance(repo, str) and GITHUB_REPO.match(repo)):
                raise ValueError(f"repositories.{app}: a GitHub repository is owner/name, not {repo!r}")
            if self.kind == "gitlab" and isinstance(repo, str) and not GITLAB_PROJECT.match(repo):
                raise ValueError(f"repositories.{app}: a GitLab project is group/project or its numeric id")
        return self

    def url(self) -> str:
        if self.api_url is not None:
            return self.api_url
        return "https://gitlab.com/api/v4" if self.kind == "gitlab" else "https://api.github.com"


GITHUB_REPO = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
GITLAB_PROJECT = re.compile(r"^[A-Za-z0-9_.-]{1,100}(/[A-Za-z0-9_.-]{1,100}){1,20}$")


class BuilderSettings(Strict):
    kind: Literal["local", "none"] = "local"


class ServerSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8470, ge=1, le=65535)
    webhook_token: TokenSource


WEEK_SECONDS = 7 * 24 * 3600


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= WEEK_SECONDS:
        raise ValueError(
            f"must be a number of seconds above 0 and at most {WEEK_SECONDS} (a week), e.g. 30; got {_shown(value)}"
        )
    return float(value)


def _resyncs(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValueError(
            f"must be a whole number from 0 (fail without asking again) to 100, e.g. 5; got {_shown(value)}"
        )
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


Seconds = Annotated[float, BeforeValidator(_seconds)]


class TimeoutSettings(Strict):
    """How long the operation worker waits on the world before it fails an operation."""

    artifact_seconds: Seconds = 600.0  # a promotion commit's build must appear within this
    deployment_seconds: Seconds = 300.0  # the engine must report a result within this
    resync_seconds: Seconds = 30.0  # while the engine runs another image than the pin, ask it to sync again after
    resyncs: Annotated[int, BeforeValidator(_resyncs)] = 5  # ... at most this many times, then fail the operation


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


HTTPS_PREFIX = re.compile(r"^https?://[^\s/?#@]+(/[^\s?#]*)?$")
LOOPBACK_HTTP = re.compile(r"^http://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?(/|$)")
SSH_PREFIX = re.compile(r"^(ssh://([A-Za-z0-9_.-]+@)?[^\s/?#@:]+(:[0-9]{1,5})?(/\S*)?|[A-Za-z0-9_.-]+@[^\s/:@]+:\S*)$")


def _database_form(value: Any) -> str | None:
    if isinstance(value, str):
        return "url"
    return "source" if isinstance(value, dict | TokenSource) else None


# The database URL, written out or (when it holds a password) read from a token source.
DatabaseSetting = Annotated[
    Annotated[Annotated[str, Field(min_length=1)], Tag("url")] | Annotated[TokenSource, Tag("source")],
    Discriminator(
        _database_form,
        custom_error_type="database_form",
        custom_error_message="must be a database URL, or a token source ({env: VAR} or {file: path}) holding one",
    ),
]


class GitCredentialSettings(Strict):
    """How promobot signs in to every repository whose URL starts with `url`: over HTTPS with a username and
    a token (`password`), or over SSH with a private key checked against `known_hosts`.
    """

    url: Annotated[str, Field(min_length=1, max_length=500)]
    username: Annotated[str, Field(pattern=r"^[^\s:@/]{1,256}$")] | None = None
    password: TokenSource | None = None
    ssh_key: Annotated[str, Field(min_length=1)] | None = None
    known_hosts: Annotated[str, Field(min_length=1)] | None = None
    strict_host_key_checking: bool = True

    @field_validator("url")
    @classmethod
    def _a_url_prefix(cls, value: str) -> str:
        if not (HTTPS_PREFIX.match(value) or SSH_PREFIX.match(value)):
            raise ValueError(
                "must be the start of repository URLs without credentials: https://host/owner/, "
                "ssh://git@host/owner/ or git@host:owner/"
            )
        return value

    @property
    def ssh(self) -> bool:
        return not HTTPS_PREFIX.match(self.url)

    @model_validator(mode="after")
    def _what_the_kind_needs(self) -> GitCredentialSettings:
        if not self.ssh:
            if self.url.startswith("http://") and not LOOPBACK_HTTP.match(self.url):
                raise ValueError("`url` must be https:// (plain http:// would send the token in clear; loopback aside)")
            if self.ssh_key or self.known_hosts or "strict_host_key_checking" in self.model_fields_set:
                raise ValueError("an https credential takes `username` and `password`, not ssh keys")
            if self.username is None or self.password is None:
                raise ValueError("an https credential needs `username` and `password` (a token source)")
            return self
        if self.username is not None or self.password is not None:
            raise ValueError("an ssh credential takes `ssh_key` and `known_hosts`, not username and password")
        if self.ssh_key is None:
            raise ValueError("an ssh credential needs `ssh_key`: the path of the private key file")
        if self.known_hosts is None and self.strict_host_key_checking:
            raise ValueError(
                "an ssh credential needs `known_hosts` (the servers' host keys, e.g. from ssh-keyscan) "
                "while `strict_host_key_checking` is on"
            )
        return self


class GitSettings(Strict):
    """Credentials for the app and GitOps repositories; the longest matching `url` wins."""

    credentials: list[GitCredentialSettings] = []

    @field_validator("credentials")
    @classmethod
    def _unique_urls(cls, value: list[GitCredentialSettings]) -> list[GitCredentialSettings]:
        _unique("credential url", [c.url for c in value])
        return value


ServerSettings.model_rebuild()
RegistrySettings.model_rebuild()
ArgoCDEngineSettings.model_rebuild()
FluxEngineSettings.model_rebuild()
ForgeSettings.model_rebuild()


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
    forge_login: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\[\]-]{1,100}$")] | None = None  # default: `name`


class Settings(Strict):
    environments: list[EnvironmentSettings] = Field(min_length=1)
    apps: list[AppSettings] = Field(min_length=1)
    gitops: GitOpsSettings
    registry: RegistrySettings
    engine: AnyEngineSettings
    builder: BuilderSettings = BuilderSettings()
    forge: ForgeSettings = ForgeSettings()
    database: DatabaseSetting = "sqlite:///promobot.db"
    server: ServerSettings
    users: list[UserSettings] = Field(min_length=1)
    state_dir: str = ".promobot"
    slack: SlackSettings | None = None
    git: GitSettings = GitSettings()
    timeouts: TimeoutSettings = TimeoutSettings()

    @model_validator(mode="before")
    @classmethod
    def _ci_builds_for_real_engines(cls, data: Any) -> Any:
        """With Argo CD or Flux, CI builds the images: an absent `builder` means `none`."""
        engine = data.get("engine") if isinstance(data, dict) else None
        if isinstance(engine, dict) and engine.get("kind") in ("argocd", "flux") and "builder" not in data:
            return {**data, "builder": {"kind": "none"}}
        return data

    @model_validator(mode="after")
    def _integrations_fit_together(self) -> Settings:
        if self.engine.kind != "local" and self.builder.kind == "local":
            raise ValueError(
                f"builder.kind: must be `none` with engine {self.engine.kind}: your CI builds the images "
                "(deploy/ci/) and the registry's notifications record them"
            )
        if self.forge.kind != "local":
            missing = [a.name for a in self.apps if a.name not in self.forge.repositories]
            if missing:
                raise ValueError(
                    f"forge.repositories: no {self.forge.kind} repository for app {', '.join(missing)}; "
                    "map every app to its repository (owner/name, or a GitLab project id)"
                )
            unknown = sorted(set(self.forge.repositories) - {a.name for a in self.apps})
            if unknown:
                raise ValueError(f"forge.repositories: {', '.join(unknown)} is not an app in `apps`")
        if isinstance(self.engine, FluxEngineSettings) and self.engine.kubernetes is not None:
            unknown = sorted(set(self.engine.kubernetes.environments) - {e.name for e in self.environments})
            if unknown:
                raise ValueError(f"engine.kubernetes.environments: {', '.join(unknown)} is not an environment")
        return self

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
        holders: dict[str, list[str]] = {}
        for user in value:
            if user.slack_id:
                holders.setdefault(user.slack_id, []).append(user.name)
        shared = [f"{slack_id} ({', '.join(names)})" for slack_id, names in sorted(holders.items()) if len(names) > 1]
        if shared:
            raise ValueError(f"each slack_id must belong to one user; shared: {'; '.join(shared)}")
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
                    lockers=frozenset(e.lockers),
                    when_locked=e.when_locked,
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
        parts = [str(part) for part in first["loc"]]
        if parts[:1] == ["engine"] and parts[1:2] and parts[1] in ENGINE_KINDS:
            del parts[1]  # the union's tag: engine.argocd.url reads as engine.url
        if parts[:1] == ["database"] and parts[1:2] and parts[1] in ("url", "source"):
            del parts[1]  # the union's tag: database.source.env reads as database.env
        message = first["msg"].removeprefix("Value error, ")
        if not parts:  # a check across sections names its own key
            raise errors.ConfigError(f"{path}: {message}") from None
        raise errors.ConfigError(f"{path}: {'.'.join(parts)}: {message}") from None
    return Loaded(settings=settings, base=path.resolve().parent, path=path.resolve())
