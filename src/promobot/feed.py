"""The live feed: an in-process publish/subscribe of operation and deployment changes.

`Feed` is a Notifier: the service layer reports every change to it (through `Fanout`, beside the console
chat), and the web layer's Server-Sent Events stream subscribes to it. Publishing is thread-safe and never
blocks (the worker, the builder and request threads all publish); each subscriber is an asyncio queue fed
with `call_soon_threadsafe`. The last `keep` changes are kept so a reconnecting client replays what it
missed (`since`). Change ids are `<epoch>-<seq>`: a client holding an id from an earlier server process
gets no replay and should re-read the board.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from promobot import ports
from promobot.domain.deployments import Deployment
from promobot.domain.operations import Operation

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Change:
    seq: int
    epoch: str
    value: Operation | Deployment

    @property
    def id(self) -> str:
        return f"{self.epoch}-{self.seq}"

    @property
    def kind(self) -> str:
        return "operation" if isinstance(self.value, Operation) else "deployment"


class Subscription:
    """One listener: changes arrive on `queue`; `None` on the queue means the feed closed or it fell behind."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue(maxsize=size)
        self.dropped = False

    def _offer(self, change: Change | None) -> None:  # runs on the subscriber's loop
        if self.dropped:
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            self.dropped = True  # a reader this far behind reconnects and replays
            self.queue.get_nowait()
            self.queue.put_nowait(None)


class Feed:
    """Implements ports.Notifier; `subscribe` from a coroutine, `publish` from anywhere."""

    def __init__(self, *, keep: int = 500, queue_size: int = 1000, stream_seconds: float = 8.0) -> None:
        self.epoch = secrets.token_hex(4)
        self.stream_seconds = stream_seconds  # how long one SSE response lasts before the client reconnects
        self._lock = threading.Lock()
        self._seq = 0
        self._recent: deque[Change] = deque(maxlen=keep)
        self._subscribers: set[Subscription] = set()
        self._queue_size = queue_size
        self._closed = False

    # --- ports.Notifier ---------------------------------------------------------------------------
    def operation_changed(self, operation: Operation) -> None:
        self.publish(operation)

    def deployment_changed(self, deployment: Deployment) -> None:
        self.publish(deployment)

    # --- publish / subscribe ----------------------------------------------------------------------
    def publish(self, value: Operation | Deployment) -> Change:
        with self._lock:
            self._seq += 1
            change = Change(self._seq, self.epoch, value)
            self._recent.append(change)
            subscribers = list(self._subscribers)
        for sub in subscribers:
            self._deliver(sub, change)
        return change

    def subscribe(self) -> Subscription:
        sub = Subscription(asyncio.get_running_loop(), self._queue_size)
        with self._lock:
            if self._closed:
                sub.queue.put_nowait(None)
            else:
                self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    def since(self, last_id: str | None) -> list[Change] | None:
        """Changes after `last_id`, oldest first; None when they cannot be told (unknown epoch, or too old)."""
        if not last_id:
            return []
        epoch, _, seq = last_id.partition("-")
        if epoch != self.epoch or not seq.isdigit():
            return None
        after = int(seq)
        with self._lock:
            kept = list(self._recent)
        if kept and kept[0].seq > after + 1:
            return None
        return [c for c in kept if c.seq > after]

    def close(self) -> None:
        """End every subscription (the server is stopping)."""
        with self._lock:
            self._closed = True
            subscribers = list(self._subscribers)
            self._subscribers.clear()
        for sub in subscribers:
            self._deliver(sub, None)

    def _deliver(self, sub: Subscription, change: Change | None) -> None:
        try:
            sub.loop.call_soon_threadsafe(sub._offer, change)
        except RuntimeError:  # that subscriber's loop is gone
            self.unsubscribe(sub)


class Fanout:
    """A Notifier that tells several notifiers; one failing is logged and does not stop the others."""

    def __init__(self, notifiers: Sequence[ports.Notifier]) -> None:
        self._notifiers = tuple(notifiers)

    def operation_changed(self, operation: Operation) -> None:
        for notifier in self._notifiers:
            try:
                notifier.operation_changed(operation)
            except Exception:
                log.exception("a notifier failed to report an operation change", notifier=type(notifier).__name__)

    def deployment_changed(self, deployment: Deployment) -> None:
        for notifier in self._notifiers:
            try:
                notifier.deployment_changed(deployment)
            except Exception:
                log.exception("a notifier failed to report a deployment change", notifier=type(notifier).__name__)
