"""Reporting to chat: one message per operation, posted on its first change and updated in place after.

Every state change of the operation (the first one too) gets its own line in the message's thread, in order,
exactly once across restarts, crashes and replicas (`threads.py`). The channel and message id are stored
with the operation, so a restarted server keeps updating the same message; the first post is made once
across crashes and replicas (`posting.py`). Chat calls run on one background thread fed by a queue, so
neither the operation worker nor Slack's ack ever waits on Slack.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import structlog

from promobot import ports
from promobot.domain import errors
from promobot.domain.deployments import Deployment
from promobot.domain.operations import Operation, OperationEvent
from promobot.domain.pipeline import Pipeline
from promobot.messages import operations
from promobot.service import posting, threads

log = structlog.get_logger(__name__)

RECENT = 20  # operations whose messages a starting reporter brings up to date


@dataclass(frozen=True)
class Channels:
    """Where operations are reported: an environment's channel, else the app's, else the default."""

    default: str
    apps: Mapping[str, str] = field(default_factory=dict)
    envs: Mapping[str, str] = field(default_factory=dict)

    def of(self, app: str, env: str) -> str:
        return self.envs.get(env) or self.apps.get(app) or self.default


class Notifiers:
    """Tell every notifier in turn (the console log, the chat reporter, ...)."""

    def __init__(self, notifiers: Sequence[ports.Notifier]) -> None:
        self._notifiers = list(notifiers)

    def operation_changed(self, operation: Operation) -> None:
        for notifier in self._notifiers:
            notifier.operation_changed(operation)

    def deployment_changed(self, deployment: Deployment) -> None:
        for notifier in self._notifiers:
            notifier.deployment_changed(deployment)


def _pass(_: str) -> None:
    return None


def report(
    store: ports.Store,
    chat: ports.Chat,
    pipeline: Pipeline,
    channels: Channels,
    change: Operation,
    threaded: dict[int, int] | None = None,
    *,
    stale_after: float = posting.STALE_AFTER,
    checkpoint: Callable[[str], None] = _pass,
) -> bool:
    """Post the operation's message (or update it in place), then add a thread line for every state change
    not yet in its thread, oldest first (`threads.answer`). False when another reporter is making the first
    post right now: report `change` again a little later (it will update that message).

    `threaded` counts, per operation, the lines this reporter knows are in the thread; the reporter keeps it.
    It is trusted only while `change` is the one change made since; after a restart, or when another replica
    changed the operation too, the thread is read instead.
    """
    if change.id is None:
        return True
    threaded = {} if threaded is None else threaded
    with store.unit_of_work() as uow:
        current = uow.operations.get(change.id)
        events = uow.operations.events(change.id)
    if current is None:
        return True
    message = operations.operation(current, pipeline)
    known = threaded.pop(change.id, None)  # unknown again should this report fail half-way
    if not current.chat_ts:
        channel = channels.of(current.app, current.env)
        first = posting.first_post(
            store, chat, change.id, channel, message, stale_after=stale_after, checkpoint=checkpoint
        )
        if first is None:
            return False
        if first.earlier:  # posted by a reporter that died before recording it: bring it up to date
            chat.update(first.posted.channel, first.posted.ts, message)
        # the thread is answered only once the message is recorded, so a first post has an empty thread
        channel, ts, known = first.posted.channel, first.posted.ts, 0
    else:
        chat.update(current.chat_channel, current.chat_ts, message)
        channel, ts = current.chat_channel, current.chat_ts
        if known is not None and not _only(change, events[known:]):
            known = None  # a change this reporter was not told of (yet): maybe another replica's, read the thread
    lines = threads.answer(chat, channel, ts, change.id, events, known, checkpoint=checkpoint)
    if not change.state.finished:  # its last change: nothing more will come to the thread
        threaded[change.id] = lines
    return True


def _only(change: Operation, since: Sequence[OperationEvent]) -> bool:
    """Whether the changes since the reporter's last are at most `change` itself."""
    told = (change.updated_at, change.state, change.step, change.message)
    return len(since) <= 1 and all((e.at, e.state, e.step, e.message) == told for e in since)


def thread_link(chat: ports.Chat | None, operation: Operation) -> str:
    """A link to the operation's chat message and thread; "" without chat, before it is posted, or when chat
    cannot say (a page shows no link rather than fail)."""
    if chat is None or not operation.chat_ts:
        return ""
    try:
        return chat.permalink(operation.chat_channel, operation.chat_ts)
    except errors.PromobotError as exc:
        log.warning("chat permalink unavailable", operation=operation.id, error=str(exc))
        return ""


class ChatReporter:
    """A Notifier that queues operation changes and reports them to chat from its own thread.

    A change whose operation's first post another reporter is making is reported again every `later`
    seconds (only the newest change of each operation is kept), until that post is recorded or its claim
    went stale (`stale_after`).
    """

    def __init__(
        self,
        store: ports.Store,
        chat: ports.Chat,
        pipeline: Pipeline,
        channels: Channels,
        *,
        size: int = 1000,
        later: float = 1.0,
        stale_after: float = posting.STALE_AFTER,
        checkpoint: Callable[[str], None] = _pass,
    ) -> None:
        self._args = (store, chat, pipeline, channels)
        self._stale_after = stale_after
        self._checkpoint = checkpoint
        self._threaded: dict[int, int] = {}  # per operation, the lines known in its thread (this thread only)
        self._queue: queue.Queue[Operation | None] = queue.Queue(maxsize=size)
        self._later = later
        self._waiting: dict[int, Operation] = {}  # operation id -> its newest change, to report again
        self._timers: dict[int, threading.Timer] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="chat-reporter", daemon=True)

    def operation_changed(self, operation: Operation) -> None:
        try:
            self._queue.put_nowait(operation)
        except queue.Full:
            log.warning("chat report dropped: the queue is full", operation=operation.id)

    def deployment_changed(self, deployment: Deployment) -> None:
        return None  # every deployment belongs to an operation, whose message reports it

    def start(self) -> None:
        """Start reporting; first the operations whose first post an earlier process claimed and never recorded,
        then the `RECENT` newest posted ones (their last changes may have died in an earlier process's queue:
        their threads are read and completed)."""
        store = self._args[0]
        try:
            with store.unit_of_work() as uow:
                unrecorded = uow.operations.chat_unrecorded()
                posted = [op for op in uow.operations.recent(limit=RECENT) if op.chat_ts]
        except Exception:
            log.exception("could not read the operations to bring up to date in chat")
            unrecorded, posted = [], []
        for operation in [*unrecorded, *reversed(posted)]:
            self.operation_changed(operation)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            timers = list(self._timers.values())
            self._timers.clear()
            self._waiting.clear()
        for timer in timers:
            timer.cancel()
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    @property
    def waiting(self) -> int:
        """How many operations wait to be reported again (another reporter makes their first post)."""
        with self._lock:
            return len(self._waiting)

    def drain(self, timeout: float = 60.0) -> None:
        """Wait until every queued change is reported, those to report again too (tests, a clean stop)."""
        deadline = time.monotonic() + timeout
        while True:
            self._queue.join()
            with self._lock:
                if not self._waiting and not self._queue.unfinished_tasks:
                    return
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)

    def _run(self) -> None:
        while True:
            change = self._queue.get()
            try:
                if change is None:
                    return
                done = report(
                    *self._args, change, self._threaded, stale_after=self._stale_after, checkpoint=self._checkpoint
                )
                if not done:
                    self._again(change)
            except errors.PromobotError as exc:
                log.warning("chat report failed", operation=change.id if change else None, error=str(exc))
            except Exception:
                log.exception("chat report crashed; the reporter goes on")
            finally:
                self._queue.task_done()

    def _again(self, change: Operation) -> None:
        """Report the operation again after a rest; one pending report per operation, its newest change."""
        assert change.id is not None
        with self._lock:
            pending = change.id in self._waiting
            self._waiting[change.id] = change
            if pending:
                return
            timer = threading.Timer(self._later, self._requeue, (change.id,))
            timer.daemon = True
            self._timers[change.id] = timer
        timer.start()

    def _requeue(self, operation_id: int) -> None:
        with self._lock:  # taken from the waiting and put on the queue at once, so `drain` sees one or the other
            self._timers.pop(operation_id, None)
            change = self._waiting.pop(operation_id, None)
            if change is None:
                return
            try:
                self._queue.put_nowait(change)
            except queue.Full:
                log.warning("chat report dropped: the queue is full", operation=operation_id)
