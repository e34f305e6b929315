"""The live feed: operation and deployment changes, published to in-process subscribers (the SSE stream).

With the store's change log (`ports.ChangeLog`, how `serve` runs) the feed follows the log: one thread per
process, started by the first subscriber, polls it every `poll_seconds` (at once when this process reports
a change, since it is a Notifier) and hands each change to every subscriber (while there is none it only
moves to the log's newest id), so a replica's subscribers see every replica's changes, in log
order. Change ids are the log's ids, the same on every replica; a reconnecting client replays what it
missed from the log (`since`) unless it was pruned. Without a log (tests of the stream alone) the feed
publishes what this process reports, with ids `<epoch>-<seq>` that no other process knows.

Publishing is thread-safe and never blocks; each subscriber is an asyncio queue fed with
`call_soon_threadsafe`. A client whose id cannot be replayed gets `None` from `since`: re-read the board.
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
from promobot.following import Follower
from promobot.looping import Loop

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Change:
    seq: int
    epoch: str  # "" for the change log's ids
    value: Operation | Deployment

    @property
    def id(self) -> str:
        return f"{self.epoch}-{self.seq}" if self.epoch else str(self.seq)

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

    def __init__(
        self,
        changes: ports.ChangeLog | None = None,
        *,
        keep: int = 500,
        queue_size: int = 1000,
        stream_seconds: float = 8.0,
        poll_seconds: float = 0.5,
    ) -> None:
        self.epoch = "" if changes is not None else secrets.token_hex(4)
        self.changes = changes  # the store's change log, when the feed follows it
        self.stream_seconds = stream_seconds  # how long one SSE response lasts before the client reconnects
        self._keep = keep
        self._poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._seq = 0
        self._recent: deque[Change] = deque(maxlen=keep)
        self._subscribers: set[Subscription] = set()
        self._queue_size = queue_size
        self._closed = False
        self._follower: Loop | None = None
        self._joined = 0  # subscriptions ever made: the follower sees one arrive while it skips

    # --- ports.Notifier ---------------------------------------------------------------------------
    def operation_changed(self, operation: Operation) -> None:
        self._reported(operation)

    def deployment_changed(self, deployment: Deployment) -> None:
        self._reported(deployment)

    def _reported(self, value: Operation | Deployment) -> None:
        if self.changes is None:
            self.publish(value)
        elif self._follower is not None:
            self._follower.wake()  # it is in the log already: read it now rather than at the next poll

    # --- publish / subscribe ----------------------------------------------------------------------
    def publish(self, value: Operation | Deployment, seq: int | None = None) -> Change:
        """Hand a change to every subscriber: the next of this process's numbers, or the log's `seq`."""
        with self._lock:
            if seq is None:
                self._seq += 1
                seq = self._seq
            change = Change(seq, self.epoch, value)
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
                self._joined += 1
                self._follow()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    def since(self, last_id: str | None) -> list[Change] | None:
        """Changes after `last_id`, oldest first; None when they cannot be told (unknown id, or too old).

        Reads the change log when the feed follows one: call it off the event loop.
        """
        if not last_id:
            return []
        if self.changes is not None:
            return self._since_in_log(last_id)
        epoch, _, seq = last_id.partition("-")
        if epoch != self.epoch or not seq.isdigit():
            return None
        after = int(seq)
        with self._lock:
            kept = list(self._recent)
        if kept and kept[0].seq > after + 1:
            return None
        return [c for c in kept if c.seq > after]

    def _since_in_log(self, last_id: str) -> list[Change] | None:
        assert self.changes is not None
        if not last_id.isdigit() or len(last_id) > 18:
            return None
        after = int(last_id)
        oldest = self.changes.oldest()
        if oldest is None or oldest > after + 1:
            return None  # pruned since, or an id from another database
        found = self.changes.after(after, limit=self._keep)
        if len(found) == self._keep:
            return None  # too much to replay: re-reading the board is quicker
        return [Change(c.id, "", c.value) for c in found if c.value is not None]

    def close(self) -> None:
        """End every subscription and stop following the log (the server is stopping)."""
        with self._lock:
            self._closed = True
            subscribers = list(self._subscribers)
            self._subscribers.clear()
            follower, self._follower = self._follower, None
        for sub in subscribers:
            self._deliver(sub, None)
        if follower is not None:
            follower.stop()

    def _follow(self) -> None:
        """Start the thread that follows the change log, with the first subscriber (under the lock)."""
        if self.changes is None or self._follower is not None:
            return
        follower = Follower(self.changes)
        loop: Loop

        def poll() -> None:
            with self._lock:
                listened, joined = bool(self._subscribers), self._joined
            if not listened:
                was = follower.top
                follower.skip()  # one cheap query: changes nobody would receive are not read
                with self._lock:
                    if self._joined == joined:
                        return
                follower.top = was  # someone subscribed meanwhile: hand them what came since
            found, more = follower.poll()
            for change in found:
                if change.value is not None:
                    self.publish(change.value, change.id)
            if more:
                loop.wake()

        loop = Loop("change-feed", poll, interval=self._poll_seconds)
        self._follower = loop
        loop.start()

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
