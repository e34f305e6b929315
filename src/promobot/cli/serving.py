"""`promobot serve`: build the application from config and run it under uvicorn until SIGINT/SIGTERM.

`PROMOBOT_PORT` in the environment overrides `server.port`: several replicas on one host share one config.
"""

from __future__ import annotations

import os

import uvicorn

from promobot import bootstrap, config, logs
from promobot.domain import errors
from promobot.web.app import create_app

PORT_VAR = "PROMOBOT_PORT"


def serve(loaded: config.Loaded) -> None:
    logs.configure()
    loaded = with_port_override(loaded, os.environ.get(PORT_VAR, ""))
    application = bootstrap.build(loaded)
    application.claim()
    settings = loaded.settings.server
    uvicorn.run(
        create_app(application),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )


def with_port_override(loaded: config.Loaded, value: str) -> config.Loaded:
    """The config with `server.port` replaced by `value` (a port number); unchanged when `value` is empty."""
    if not value.strip():
        return loaded
    if not value.strip().isdigit() or not 1 <= int(value) <= 65535:
        raise errors.ConfigError(f"{PORT_VAR}={value!r} is not a port number", "give a number from 1 to 65535")
    server = loaded.settings.server.model_copy(update={"port": int(value)})
    settings = loaded.settings.model_copy(update={"server": server})
    return loaded.model_copy(update={"settings": settings})
