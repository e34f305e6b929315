"""`promobot serve`: build the application from config and run it under uvicorn until SIGINT/SIGTERM.

`PROMOBOT_PORT` in the environment overrides `server.port`: several replicas on one host share one config.
`--workers N` runs N uvicorn worker processes on one listening socket (PostgreSQL only): each builds its
own application from the config and behaves as a replica — one of them holds the duties lease, and the
operation locks share the operations between them.
Before serving, everything built so far is frozen out of the garbage collector's full passes (`settle`).
"""

from __future__ import annotations

import gc
import os

import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from promobot import bootstrap, config, logs
from promobot.domain import errors
from promobot.web.app import create_app

PORT_VAR = "PROMOBOT_PORT"
CONFIG_VAR = "PROMOBOT_SERVE_CONFIG"  # how `serve --workers` tells its worker processes the config file
GRACE_SECONDS = 10


def serve(loaded: config.Loaded, *, workers: int = 1) -> None:
    """Serve in this process, or in `workers` worker processes (raises ConfigError when that cannot be)."""
    logs.configure()
    loaded = with_port_override(loaded, os.environ.get(PORT_VAR, ""))
    if workers < 1:
        raise errors.ConfigError(f"--workers {workers} is not a number of processes", "give 1 or more")
    settings = loaded.settings.server
    if workers == 1:
        application = bootstrap.build(loaded)
        application.claim()
        settle()
        uvicorn.run(
            create_app(application),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            timeout_graceful_shutdown=GRACE_SECONDS,
        )
        return
    if database_kind(loaded) != "postgresql":
        raise errors.ConfigError(
            f"--workers {workers} needs PostgreSQL: SQLite is served by one process",
            "drop --workers, or set `database:` to a postgresql+psycopg:// URL",
        )
    bootstrap.build(loaded, background=False)  # a bad config is refused here once, not by every worker
    os.environ[CONFIG_VAR] = str(loaded.path)
    uvicorn.run(
        f"{__name__}:worker_app",
        factory=True,
        workers=workers,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=GRACE_SECONDS,
    )


def worker_app() -> FastAPI:
    """One worker process of `serve --workers`: the application built afresh from the parent's config."""
    logs.configure()
    loaded = with_port_override(config.load(os.environ[CONFIG_VAR]), os.environ.get(PORT_VAR, ""))
    app = create_app(bootstrap.build(loaded))
    settle()
    return app


def settle() -> None:
    """Move what the process has built (modules, the config, adapters, the app) out of the collector's full
    passes, which then walk only what is allocated afterwards: with 1,000 apps a full pass over everything
    took 60-120 ms, stalling every request in flight (`GET /api/list` p99)."""
    gc.collect()
    gc.freeze()


def database_kind(loaded: config.Loaded) -> str:
    """`postgresql`, `sqlite`, … — the backend the config's database URL names."""
    setting = loaded.settings.database
    url = setting if isinstance(setting, str) else setting.read(loaded.base)
    try:
        return make_url(url).get_backend_name()
    except ArgumentError:
        return "unknown"


def with_port_override(loaded: config.Loaded, value: str) -> config.Loaded:
    """The config with `server.port` replaced by `value` (a port number); unchanged when `value` is empty."""
    if not value.strip():
        return loaded
    if not value.strip().isdigit() or not 1 <= int(value) <= 65535:
        raise errors.ConfigError(f"{PORT_VAR}={value!r} is not a port number", "give a number from 1 to 65535")
    server = loaded.settings.server.model_copy(update={"port": int(value)})
    settings = loaded.settings.model_copy(update={"server": server})
    return loaded.model_copy(update={"settings": settings})
