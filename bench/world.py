"""A large promobot installation for the server benchmarks: a sandbox whose config names many apps, a
database seeded in bulk through the store's tables, and `promobot serve` running it as a real process.

Every app shares the sandbox's `web` repository (nothing here builds); the builder is off (`kind: none`)
so start-up does not fetch a thousand mirrors; the local runtime polls the GitOps repository as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from common import postgresql_url
from sqlalchemy import Connection, delete, func, insert, select, text

from promobot.adapters.store.sql import SqlStore
from promobot.adapters.store.tables import current_deployments, deployments, operations
from support import databases, running

ENVS = ("development", "qa", "staging", "prod")
PREFIX = {"development": "dev", "qa": "qa", "staging": "staging", "prod": "prod"}
CHUNK = 5_000


def app_names(count: int) -> list[str]:
    return [f"svc{n:04d}" for n in range(count)]


def setup(root: Path, *, apps: int, database_url: str | None = None) -> running.Setup:
    """A sandbox rewritten to configure `apps` apps; not started."""
    world = running.Setup(root / "sandbox", database_url=database_url)
    settings = yaml.safe_load(world.config.read_text())
    settings["apps"] = [{"name": name, "repository": "git/web.git", "image": name} for name in app_names(apps)]
    settings["builder"] = {"kind": "none"}
    world.config.write_text(yaml.safe_dump(settings, sort_keys=False))
    return world


def token(world: running.Setup, user: str = "developer") -> str:
    return (world.root / "tokens" / f"{user}.token").read_text().strip()


def sha(n: int) -> str:
    return f"{n:040x}"[-40:]


def digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


def seed(
    url: str,
    *,
    apps: int,
    history: int,
    active: int = 20,
    last_state: str | None = None,
    active_since: datetime | None = None,
) -> None:
    """`history` deployment rows spread over apps x ENVS (newest last), and `active` running operations.

    The newest deployment of every (app, env) is healthy, or `last_state` when given. The running operations
    were last updated at `active_since` (default: long ago, so a worker would time them out at once).
    """
    store = SqlStore(url)
    store.migrate()
    pairs = [(app, env) for app in app_names(apps) for env in ENVS]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    with store.engine.begin() as connection:
        for n in range(history):
            app, env = pairs[n % len(pairs)]
            last = n >= history - len(pairs)
            state = (last_state or "healthy") if last else ("healthy" if n % 7 else "failed")
            at = start + timedelta(seconds=n)
            rows.append(
                {
                    "app": app,
                    "env": env,
                    "tag": f"{PREFIX[env]}-{sha(n)[:7]}",
                    "digest": digest(n),
                    "source_revision": sha(n),
                    "revision": sha(n + 1),
                    "state": state,
                    "deployed_by": "dana",
                    "operation_id": None,
                    "started_at": at,
                    "finished_at": None if state == "progressing" else at,
                    "url": f"http://127.0.0.1:9/{app}/{env}",
                    "message": "",
                }
            )
            if len(rows) == CHUNK:
                connection.execute(insert(deployments), rows)
                rows = []
        if rows:
            connection.execute(insert(deployments), rows)
        point_at_newest(connection)
        now = active_since or start + timedelta(days=1)
        running = [
            {
                "kind": "promote",
                "app": app,
                "env": "qa",
                "artifact": f"{app}:dev-{sha(i)[:7]}",
                "requested_by": "dana",
                "source_revision": sha(i),
                "target_tag": f"qa-{sha(i)[:7]}",
                "state": "running",
                "step": "awaiting_artifact",
                "message": "waiting for CI",
                "created_at": now,
                "updated_at": now,
                "branch_commit": "",
                "pr_number": None,
                "pr_url": "",
                "pinned_digest": "",
                "deployment_id": None,
            }
            for i, app in enumerate(app_names(apps)[:active])
        ]
        if running:
            connection.execute(insert(operations), running)
    with store.engine.connect() as connection:  # statistics as autovacuum would have them after a while
        connection.execute(text("ANALYZE"))
        connection.commit()
    store.dispose()


def point_at_newest(connection: Connection) -> None:
    """What SqlDeployments.add keeps for each deployment it adds, for rows inserted in bulk around it."""
    connection.execute(delete(current_deployments))
    newest = select(deployments.c.app, deployments.c.env, func.max(deployments.c.id)).group_by(
        deployments.c.app, deployments.c.env
    )
    connection.execute(insert(current_deployments).from_select(["app", "env", "deployment_id"], newest))


@contextmanager
def database(kind: str, root: Path) -> Iterator[str]:
    """A fresh database URL: SQLite in `root`, or a new schema on the PostgreSQL server."""
    if kind == databases.SQLITE:
        yield databases.sqlite_url(root / "db")
    else:
        with databases.postgresql_schema(postgresql_url()) as url:
            yield url
