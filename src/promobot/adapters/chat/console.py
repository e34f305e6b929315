"""The embedded setup's chat: one line per operation or deployment change, on the server's log.

It logs each change it is told of, as it is told: it has no message or thread to keep exact (a change made
just before a crash may go unlogged, and nothing is read back after a restart). Slack's threads are kept
exact by `service/threads.py`.
"""

from __future__ import annotations

import structlog

from promobot.domain.deployments import Deployment
from promobot.domain.operations import Operation

log = structlog.get_logger("promobot.chat")


class ConsoleNotifier:
    def operation_changed(self, operation: Operation) -> None:
        log.info(
            f"operation {operation.id} {operation.kind} {operation.artifact} -> {operation.env}: "
            f"{operation.state} ({operation.step}) {operation.message}"
        )

    def deployment_changed(self, deployment: Deployment) -> None:
        where = f" at {deployment.url}" if deployment.url else ""
        detail = f": {deployment.message}" if deployment.message else ""
        log.info(f"{deployment.env}: {deployment.artifact} is {deployment.state}{where}{detail}")
