"""The one composition root: configuration in, adapters and services wired, background parts ready.

Nothing connects on import; `build()` is called by `promobot serve` and by the tests.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import structlog

from promobot import config, faults, ports
from promobot.adapters.builder.local import BuildSpec, LocalBuilder
from promobot.adapters.chat.console import ConsoleNotifier
from promobot.adapters.chat.slack.bot import SlackBot
from promobot.adapters.chat.slack.socket_mode import SocketModeRunner
from promobot.adapters.chat.slack.web_api import SlackChat
from promobot.adapters.engines import kubernetes_api
from promobot.adapters.engines.argocd import ArgoCDEngine
from promobot.adapters.engines.flux_engine import FluxEngine
from promobot.adapters.engines.inbound import ArgoCDReader, FluxReader
from promobot.adapters.engines.local import LocalRuntime
from promobot.adapters.forge.github import GitHubForge
from promobot.adapters.forge.gitlab import GitLabForge
from promobot.adapters.forge.inbound import GitHubReader, GitLabReader
from promobot.adapters.forge.local import LocalForge
from promobot.adapters.git import credentials as git_credentials
from promobot.adapters.git.app_repo import GitAppRepo
from promobot.adapters.git.gitops_repo import GitOpsGitRepo
from promobot.adapters.intake_client import IntakeClient
from promobot.adapters.registry.distribution import DistributionRegistry
from promobot.adapters.registry.oci_layout import OciLayoutRegistry
from promobot.adapters.store.change_log import SqlChangeLog
from promobot.adapters.store.leases import SqlLease, SqlOperationLocks
from promobot.adapters.store.sql import SqlStore
from promobot.domain import errors
from promobot.domain.deployments import Pin
from promobot.domain.people import User
from promobot.duties import Duties
from promobot.exclusive import ProcessLock
from promobot.feed import Fanout, Feed
from promobot.looping import Loop
from promobot.messages import replies
from promobot.service import boards, chatting, reporting, working
from promobot.service.context import Context, Timeouts

log = structlog.get_logger(__name__)
BRANCH_POLL_SECONDS = 10.0  # the duty holder asks for builds of branch heads whose push webhook went astray


class Component(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


class ChatEndpoint(Protocol):
    """Slack's HTTP requests in, Slack's answers out (the web layer mounts it at /slack/events).

    `handle_http` answers at once and never waits on I/O: the web layer calls it on its event loop.
    """

    def handle_http(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, str], str]: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Application:
    """What `promobot serve` runs: the service context, who is who, and the background components."""

    ctx: Context
    loaded: config.Loaded
    tokens: dict[str, User]
    webhook_token: str
    components: list[Component] = field(default_factory=list)
    slack: ChatEndpoint | None = None
    chat: ports.Chat | None = None  # where operations are reported (Slack), for links to their threads
    process_lock: ProcessLock | None = None
    feed: Feed = field(default_factory=Feed)  # live changes for the web's event stream
    readers: dict[str, ports.WebhookReader] = field(default_factory=dict)  # /webhooks/<name> of integrations
    duties: Duties | None = None  # builder, runtime and pollers: run by the one replica holding the lease
    board: boards.KeptBoard = field(init=False)  # `list` everywhere: kept until the change log moves

    def __post_init__(self) -> None:
        self.board = boards.KeptBoard(self.ctx, self.feed.changes)

    def claim(self) -> None:
        """Refuse to serve a SQLite database another process already serves (raises ConfigError)."""
        if self.process_lock is not None:
            self.process_lock.acquire()

    def user_for(self, token: str) -> User:
        for known, user in self.tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return user
        raise errors.NotAuthenticated("the API token is not valid", "use the token the config names for your user")

    def webhook_allowed(self, token: str) -> bool:
        return hmac.compare_digest(self.webhook_token.encode(), token.encode())

    def start(self) -> None:
        self.ctx.store.migrate()
        for component in self.components:
            component.start()

    def stop(self) -> None:
        self.feed.close()
        for component in reversed(self.components):
            component.stop()
        if self.process_lock is not None:
            self.process_lock.release()
        log.info("promobot stopped: background parts and the apps they ran are down")


def server_url(settings: config.Settings) -> str:
    return f"http://{settings.server.host}:{settings.server.port}"


def build(loaded: config.Loaded, *, background: bool = True) -> Application:
    s = loaded.settings
    pipeline = s.pipeline()
    state = loaded.resolve(s.state_dir)
    webhook_token = s.server.webhook_token.read(loaded.base)
    tokens = {u.token.read(loaded.base): User(u.name, frozenset(u.roles)) for u in s.users}
    users = {user.name: user for user in tokens.values()}
    intake = IntakeClient(server_url(s), webhook_token)
    registry_root = loaded.resolve(s.registry.path) if s.registry.path else state / "registry"
    remotes = {a.name: _remote(loaded, a.repository) for a in s.apps}
    images = {a.name: a.image for a in s.apps}
    gitops_remote = _remote(loaded, s.gitops.repository)
    credential_of = functools.partial(git_credentials.pick, _git_credentials(loaded))

    def gitops_at(mirror: Path) -> GitOpsGitRepo:
        return GitOpsGitRepo(
            gitops_remote,
            mirror,
            branch=s.gitops.branch,
            path_template=s.gitops.path,
            envs=pipeline.env_names,
            apps=images,
            credential=credential_of(gitops_remote),
        )

    engine, runtime, readers = _engine(loaded, gitops_at, images, intake, registry_root, webhook_token)
    forge, forge_reader = _forge(loaded, remotes)
    if forge_reader is not None:
        readers[s.forge.kind] = forge_reader
    builder: LocalBuilder | None = None
    if s.builder.kind == "local":
        builder = LocalBuilder(
            apps={a.name: BuildSpec(remote=remotes[a.name], image=a.image, command=list(a.command)) for a in s.apps},
            branches={e.branch: e.tag_prefix for e in pipeline.environments},
            registry_root=registry_root,
            workdir=state / "builder",
            report=intake.artifact_built,
        )
    database_url = _database_url(loaded, s.database)
    store = SqlStore(database_url)
    feed = Feed(SqlChangeLog(store.engine))  # follows the store's change log: every replica's changes
    ctx = Context(
        pipeline=pipeline,
        users=users,
        store=store,
        repos={
            name: GitAppRepo(remote, state / "mirrors" / f"{name}.git", credential=credential_of(remote))
            for name, remote in remotes.items()
        },
        gitops=gitops_at(state / "mirrors" / "gitops.git"),
        forge=forge,
        registry=_registry(loaded, registry_root),
        engine=engine,
        notifier=Fanout([ConsoleNotifier(), feed]),
        clock=SystemClock(),
        builder=builder,
        forge_logins={u.forge_login: u.name for u in s.users if u.forge_login},
        merge_by_hand=s.forge.kind != "local" and s.forge.merge == "manual",
        timeouts=Timeouts(
            artifact=timedelta(seconds=s.timeouts.artifact_seconds),
            deployment=timedelta(seconds=s.timeouts.deployment_seconds),
            resync=timedelta(seconds=s.timeouts.resync_seconds),
            resyncs=s.timeouts.resyncs,
        ),
    )
    ctx.checkpoint = faults.from_environment()
    app = Application(ctx=ctx, loaded=loaded, tokens=tokens, webhook_token=webhook_token, feed=feed, readers=readers)
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        app.process_lock = ProcessLock(Path(database_url.removeprefix("sqlite:///") + ".serve.lock"))
    if background:
        backoff = working.Backoff(rest=1.0, approval_rest=10.0)
        locks = SqlOperationLocks(store.engine)
        worker = Loop("operation-worker", lambda: working.tick(ctx, backoff, locks), interval=0.5)

        def wake() -> None:
            backoff.wake()
            worker.wake()

        ctx.wake_worker = wake

        def duties() -> list[Component]:
            poller = Loop("branch-poller", lambda: _scan_branches(ctx), interval=BRANCH_POLL_SECONDS)
            return [c for c in (builder, runtime, poller) if c is not None]

        app.duties = Duties(SqlLease(store.engine), duties)
        app.components = [app.duties, worker]
        if builder is not None:
            ctx.builder = _HeldBuilder(builder, app.duties)
    if s.slack is not None:
        wire_slack(app, s.slack, loaded.base, {u.slack_id: u.name for u in s.users if u.slack_id})
    return app


class _HeldBuilder:
    """The builder as the service sees it: builds are queued only on the replica that runs the builder.

    Elsewhere a request is left to that replica's branch poller, which finds the branch head unbuilt.
    """

    def __init__(self, builder: LocalBuilder, duties: Duties) -> None:
        self._builder, self._duties = builder, duties

    def submit(self, *, app: str, branch: str, revision: str) -> None:
        if self._duties.active:
            self._builder.submit(app=app, branch=branch, revision=revision)
        else:
            log.info("build left to the replica running the builder", app=app, branch=branch, revision=revision)


def wire_slack(app: Application, slack: config.SlackSettings, base: Path, chat_users: Mapping[str, str]) -> None:
    """Report operations to Slack from a background queue, and answer Slack's commands (HTTP or Socket Mode)."""
    ctx = app.ctx
    chat = SlackChat(slack.bot_token.read(base), base_url=slack.api_url)
    channels = reporting.Channels(slack.channels.default, slack.channels.apps, slack.channels.envs)
    reporter = reporting.ChatReporter(ctx.store, chat, ctx.pipeline, channels, checkpoint=ctx.checkpoint)
    ctx.notifier = reporting.Notifiers([ctx.notifier, reporter])
    bot = SlackBot(
        signing_secret=slack.signing_secret.read(base),
        chat=chat,
        commands=chatting.ChatCommands(ctx, chat_users, channels.of, board=app.board),
        working=replies.working(),
        failed=replies.failed_internally(),
    )
    app.slack = bot
    app.chat = chat
    app.components.append(reporter)
    app.components.append(bot)  # stopped before the reporter: the work it finishes may report
    if slack.app_token is not None:
        app.components.append(SocketModeRunner(bot, slack.app_token.read(base)))


def _scan_branches(ctx: Context) -> None:
    """Ask for a build of every environment branch head: the builder skips what it already built.

    Run when this replica takes the duties and every BRANCH_POLL_SECONDS after: pushes made while no
    replica ran the builder, or whose webhook reached a replica that does not, still get built.
    """
    if ctx.builder is None:
        return
    for app, repo in ctx.repos.items():
        repo.refresh()
        for env in ctx.pipeline.environments:
            head = repo.branch_head(env.branch)
            if head is not None:
                ctx.builder.submit(app=app, branch=env.branch, revision=head)


def _engine(
    loaded: config.Loaded,
    gitops_at: Callable[[Path], GitOpsGitRepo],
    images: dict[str, str],
    intake: IntakeClient,
    registry_root: Path,
    webhook_token: str,
) -> tuple[ports.Engine, LocalRuntime | None, dict[str, ports.WebhookReader]]:
    """The engine, the local runtime when it is the engine, and the engine's webhook reader."""
    s, state = loaded.settings, loaded.resolve(loaded.settings.state_dir)
    envs = s.pipeline().env_names
    e = s.engine
    if isinstance(e, config.EngineSettings):
        runtime = LocalRuntime(
            pins=gitops_at(state / "mirrors" / "gitops-runtime.git").read_pins,
            images=images,
            registry_root=registry_root,
            workdir=loaded.resolve(e.workdir),
            report=intake.deployment_reported,
            poll_seconds=e.poll_seconds,
            health_timeout=e.health_timeout_seconds,
        )
        return runtime, runtime, {}
    hooks = gitops_at(state / "mirrors" / "gitops-hooks.git")

    def current() -> tuple[str | None, Mapping[tuple[str, str], Pin]]:
        return hooks.head(), hooks.read_pins()

    if isinstance(e, config.ArgoCDEngineSettings):
        engine = ArgoCDEngine(
            url=e.url,
            token=e.token.read(loaded.base),
            applications=e.applications,
            project=e.project,
            app_namespace=e.app_namespace,
            images=images,
            timeout=e.timeout_seconds,
            verify_tls=e.verify_tls,
        )
        reader = ArgoCDReader(token=webhook_token, template=e.applications, envs=envs, images=images, current=current)
        return engine, None, {"argocd": reader}
    secret = e.webhook_secret.read(loaded.base)
    flux = FluxReader(secret=secret, template=e.kustomizations, envs=envs, apps=list(images), current=current)
    flux_engine = FluxEngine(
        current=current,
        client=_kubernetes(loaded, e.kubernetes) if e.kubernetes is not None else None,
        kustomizations=e.kustomizations,
        namespace=e.namespace,
        environments=e.kubernetes.environments if e.kubernetes is not None else (),
        reconcile=e.reconcile,
    )
    return flux_engine, None, {"flux": flux}


def _kubernetes(loaded: config.Loaded, k: config.KubernetesSettings) -> kubernetes_api.Client:
    """The Kubernetes API client of the Flux engine: the pod's service account, or an explicit server."""
    if k.in_cluster:
        access = kubernetes_api.Access.in_cluster()
    else:
        ca = loaded.resolve(k.ca_file) if k.ca_file is not None else None
        access = kubernetes_api.Access(str(k.url), loaded.resolve(str(k.token_file)), ca)
    return kubernetes_api.Client(access, timeout=k.timeout_seconds)


def _forge(loaded: config.Loaded, remotes: Mapping[str, str]) -> tuple[ports.Forge, ports.WebhookReader | None]:
    """The forge, and its webhook reader when a webhook secret is configured."""
    f = loaded.settings.forge
    if f.kind == "local" or f.token is None:
        return LocalForge(dict(remotes)), None
    token: str | Path = f.token.read(loaded.base)  # a missing or empty token stops the start
    if f.token.file is not None:
        token = loaded.resolve(f.token.file)  # read again on every request: a rotated token is picked up
    secret = f.webhook_secret.read(loaded.base) if f.webhook_secret is not None else None
    if f.kind == "github":
        repos = {app: str(repo) for app, repo in f.repositories.items()}
        github = GitHubForge(api_url=f.url(), token=token, repos=repos, merge=f.merge)
        return github, GitHubReader(secret=secret, repos=repos) if secret else None
    gitlab = GitLabForge(api_url=f.url(), token=token, projects=f.repositories, merge=f.merge)
    return gitlab, GitLabReader(secret=secret, projects=f.repositories) if secret else None


def _registry(loaded: config.Loaded, root: Path) -> ports.Registry:
    r = loaded.settings.registry
    if r.kind == "distribution" and r.url is not None:
        password = r.password.read(loaded.base) if r.password is not None else None
        return DistributionRegistry(
            r.url, username=r.username, password=password, timeout=r.timeout_seconds, retries=r.retries
        )
    return OciLayoutRegistry(root)


def _remote(loaded: config.Loaded, value: str) -> str:
    if "://" in value or value.startswith("git@"):
        return value
    return str(loaded.resolve(value))


def _git_credentials(loaded: config.Loaded) -> list[git_credentials.Rule]:
    """The `git.credentials` as the git adapters take them; a missing key or known-hosts file is a ConfigError."""
    rules = []
    for index, c in enumerate(loaded.settings.git.credentials):
        key = f"git.credentials.{index}"
        credential: git_credentials.Credential
        if c.password is not None and c.username is not None:
            try:
                c.password.read(loaded.base)  # refuse to start without it; each use reads it again (rotation)
            except errors.ConfigError as exc:
                raise errors.ConfigError(f"{loaded.path}: {key}.password: {exc.message}", exc.hint) from None
            credential = git_credentials.Https(c.username, functools.partial(c.password.read, loaded.base))
        else:
            hint = "mount the private key there (mode 0400)"
            private_key = _existing(loaded, f"{key}.ssh_key", c.ssh_key or "", hint)
            if c.known_hosts is not None:
                hint = "mount the servers' host keys there (e.g. from `ssh-keyscan github.com`)"
                known_hosts = _existing(loaded, f"{key}.known_hosts", c.known_hosts, hint)
            else:  # not strict: hosts seen first are remembered in promobot's own state
                known_hosts = loaded.resolve(loaded.settings.state_dir) / "ssh" / "known_hosts"
                known_hosts.parent.mkdir(parents=True, exist_ok=True)
            credential = git_credentials.Ssh(private_key, known_hosts, strict=c.strict_host_key_checking)
        rules.append(git_credentials.Rule(c.url, credential))
    return rules


def _existing(loaded: config.Loaded, key: str, value: str, hint: str) -> Path:
    path = loaded.resolve(value)
    if not path.is_file():
        raise errors.ConfigError(f"{loaded.path}: {key}: no file at {path}", hint)
    return path


def _database_url(loaded: config.Loaded, setting: str | config.TokenSource) -> str:
    url = setting if isinstance(setting, str) else setting.read(loaded.base)
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str(loaded.resolve(url[len(prefix) :]))
    return url
