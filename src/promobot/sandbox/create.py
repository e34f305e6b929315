"""`promobot sandbox DIR`: a complete local setup with real git repositories, registry, database and tokens."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from promobot import config
from promobot.adapters import gitcli
from promobot.adapters.store.sql import SqlStore
from promobot.domain import errors
from promobot.domain.artifacts import check_name
from promobot.sandbox import hook

SAMPLE_APP = Path(__file__).parent / "sample_app"
PREFIXES = {"development": "dev", "production": "prod"}
BRANCHES = {"development": "develop"}
USERS = ("developer", "release-manager")


@dataclass(frozen=True)
class Sandbox:
    root: Path
    config: Path
    apps: list[str]
    envs: list[str]
    port: int

    def summary(self) -> str:
        c = self.config
        lines = [
            f"Created a promobot sandbox in {self.root}:",
            f"  git repositories  {self.root / 'git'}  ({', '.join(a + '.git' for a in self.apps)}, gitops.git)",
            f"  OCI registry      {self.root / 'registry'}",
            f"  database          {self.root / 'promobot.db'} (SQLite)",
            f"  API tokens        {self.root / 'tokens'}  (developer, release-manager; webhook)",
            f"  config            {c}",
            f"  pipeline          {' -> '.join(self.envs)}",
            "",
            "Start it:",
            f"  promobot serve --config {c}",
            "Then, in another terminal:",
            f"  git clone {self.root / 'git' / self.apps[0]}.git && cd {self.apps[0]}   # push to develop",
            f"  promobot list --config {c}",
            f"  promobot promote {self.apps[0]}@{self.envs[0]} --config {c} --wait",
        ]
        return "\n".join(lines)


def sandbox(root: Path, *, apps: list[str], envs: list[str], port: int) -> Sandbox:
    for name in apps + envs:
        check_name("app or environment", name)
    if not apps or len(set(apps)) != len(apps):
        raise errors.ConfigError("--apps needs one or more distinct names", "e.g. --apps web,api")
    if len(envs) < 2 or len(set(envs)) != len(envs):
        raise errors.ConfigError("--envs needs two or more distinct names, in order", "e.g. --envs development,qa,prod")
    if root.exists() and any(root.iterdir()):
        raise errors.ConfigError(f"{root} is not empty", "choose a new directory for the sandbox")
    root = root.resolve()
    for sub in ("git", "registry", "tokens", "runtime"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    tokens = {name: _token(root / "tokens" / f"{name}.token") for name in (*USERS, "webhook")}
    url = f"http://127.0.0.1:{port}/webhooks/git"
    branches = [BRANCHES.get(env, env) for env in envs]
    for app in apps:
        bare = root / "git" / f"{app}.git"
        _seed_app(bare, app, branches)
        hook.install(bare, app=app, url=url, token_file=tokens["webhook"])
    _seed_gitops(root / "git" / "gitops.git")
    settings = _settings(apps, envs, branches, port)
    config.parse(settings, path=root / "promobot.yaml")  # what we write must load
    path = root / "promobot.yaml"
    path.write_text(_HEADER + yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    store = SqlStore(f"sqlite:///{root / 'promobot.db'}")
    store.migrate()
    store.dispose()
    return Sandbox(root=root, config=path, apps=apps, envs=envs, port=port)


_HEADER = "# promobot configuration, written by `promobot sandbox`. Paths are relative to this file.\n"


def _token(path: Path) -> Path:
    path.write_text(secrets.token_urlsafe(32) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def _seed_app(bare: Path, app: str, branches: list[str]) -> None:
    gitcli.run(["init", "--quiet", "--bare", f"--initial-branch={branches[0]}", str(bare)])
    with tempfile.TemporaryDirectory(prefix="promobot-seed-") as scratch:
        work = Path(scratch)
        gitcli.run(["init", "--quiet", f"--initial-branch={branches[0]}"], cwd=work)
        for source in SAMPLE_APP.iterdir():
            if source.is_file():
                shutil.copy(source, work / source.name)
        (work / "VERSION").write_text("1\n", encoding="utf-8")
        gitcli.run(["add", "--all"], cwd=work)
        gitcli.run(["commit", "--quiet", "-m", f"Start {app} from the sample app"], cwd=work)
        refspecs = [f"HEAD:refs/heads/{branch}" for branch in branches]
        gitcli.run(["push", "--quiet", str(bare), *refspecs], cwd=work)


def _seed_gitops(bare: Path) -> None:
    gitcli.run(["init", "--quiet", "--bare", "--initial-branch=main", str(bare)])
    with tempfile.TemporaryDirectory(prefix="promobot-seed-") as scratch:
        work = Path(scratch)
        gitcli.run(["init", "--quiet", "--initial-branch=main"], cwd=work)
        (work / "README.md").write_text(
            "# GitOps repository\n\nOne `<env>/<app>/kustomization.yaml` per environment and app; promobot "
            "rewrites the `images:` pin.\n",
            encoding="utf-8",
        )
        gitcli.run(["add", "--all"], cwd=work)
        gitcli.run(["commit", "--quiet", "-m", "Start the GitOps repository"], cwd=work)
        gitcli.run(["push", "--quiet", str(bare), "HEAD:refs/heads/main"], cwd=work)


def _settings(apps: list[str], envs: list[str], branches: list[str], port: int) -> dict[str, object]:
    last = len(envs) - 1
    environments = []
    for index, (env, branch) in enumerate(zip(envs, branches, strict=True)):
        entry: dict[str, object] = {
            "name": env,
            "branch": branch,
            "tag_prefix": PREFIXES.get(env, env.replace("-", "")[:30]),
            "auto_deploy": index == 0,
            "promoters": ["developer", "release-manager"],
        }
        if index == last:
            entry["approval"] = {"rule": "pull_request", "approvals": 1, "approvers": ["release-manager"]}
        environments.append(entry)
    return {
        "environments": environments,
        "apps": [{"name": app, "repository": f"git/{app}.git", "image": app} for app in apps],
        "gitops": {"repository": "git/gitops.git", "branch": "main", "path": "{env}/{app}/kustomization.yaml"},
        "registry": {"kind": "oci-layout", "path": "registry"},
        "engine": {"kind": "local", "workdir": "runtime", "poll_seconds": 1.0, "health_timeout_seconds": 10.0},
        "builder": {"kind": "local"},
        "database": "sqlite:///promobot.db",
        "server": {"host": "127.0.0.1", "port": port, "webhook_token": {"file": "tokens/webhook.token"}},
        "users": [
            {"name": "developer", "roles": ["developer"], "token": {"file": "tokens/developer.token"}},
            {
                "name": "release-manager",
                "roles": ["release-manager"],
                "token": {"file": "tokens/release-manager.token"},
            },
        ],
        "state_dir": ".promobot",
    }
