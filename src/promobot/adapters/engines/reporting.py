"""Hands the local runtime's DeploymentReported events to their receiver, retrying when it is not ready.

The receiver (promobot's intake) may raise while the server is still starting: each event is retried a
few times with backoff, then given up with an error in the log. Never raises, so no runtime thread dies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from promobot.domain.events import DeploymentReported

log = logging.getLogger(__name__)


class Reporter:
    def __init__(
        self,
        receiver: Callable[[DeploymentReported], None],
        *,
        stopping: threading.Event,
        attempts: int = 4,
        first_delay: float = 0.25,
    ) -> None:
        self._receiver, self._stopping = receiver, stopping
        self._attempts, self._first_delay = attempts, first_delay

    def __call__(self, event: DeploymentReported) -> None:
        delay = self._first_delay
        for attempt in range(1, self._attempts + 1):
            try:
                self._receiver(event)
                return
            except Exception:
                log.warning(
                    "reporting %s/%s %s failed (attempt %d of %d)",
                    event.env,
                    event.app,
                    event.state,
                    attempt,
                    self._attempts,
                    exc_info=True,
                )
            if attempt == self._attempts or self._stopping.wait(delay):
                break
            delay *= 2
        log.error("gave up reporting %s/%s %s is %s", event.env, event.app, event.digest, event.state)
