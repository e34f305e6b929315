"""`promobot serve`: build the application from config and run it under uvicorn until SIGINT/SIGTERM."""

from __future__ import annotations

import uvicorn

from promobot import bootstrap, config, logs
from promobot.web.app import create_app


def serve(loaded: config.Loaded) -> None:
    logs.configure()
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
