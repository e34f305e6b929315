"""Reporting to chat: one message per operation, posted on its first change and updated in place after.

Every state change of the operation (the first one too) gets its own line in the message's thread, in order.
The channel and message id are stored with the operation, so a restarted server keeps updating the same
message. Chat calls run on one background thread fed by a queue, so neither the operation worker nor Slack's
ack ever waits on Slack.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from promobot import ports
from promobot.domain import errors
from promobot.domain.deployments import Deployment
from promobot.domain.operations import Operation, OperationEvent
from promobot.domain.pipeline import Pipeline
from promobot.messages import operations

log = structlog.get_logger(__name__)


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


def report(
    store: ports.Store,
    chat: ports.Chat,
    pipeline: Pipeline,
    channels: Channels,
    change: Operation,
    threaded: dict[int, int] | None = None,
) -> None:
    """Post the operation's message (or update it in place), then add a thread line for every state change
    not yet in its thread, oldest first.

    `threaded` counts, per operation, the changes already in the thread; the reporter keeps it. After a
    restart it is empty, and only the changes made since `change` are added (those before are in the thread).
    """
    if change.id is None:
        return
    threaded = {} if threaded is None else threaded
    with store.unit_of_work() as uow:
        current = uow.operations.get(change.id)
        events = uow.operations.events(change.id)
    if current is None:
        return
    message = operations.operation(current, pipeline)
    if not current.chat_ts:
        posted = chat.post(channels.of(current.app, current.env), message)
        with store.unit_of_work() as uow:
            uow.operations.set_chat_message(change.id, posted.channel, posted.ts)
            uow.commit()
        channel, ts, done = posted.channel, posted.ts, 0
    else:
        chat.update(current.chat_channel, current.chat_ts, message)
        channel, ts = current.chat_channel, current.chat_ts
        done = threaded.get(change.id, _before(events, change.updated_at))
    threaded[change.id] = done
    for event in events[done:]:
        chat.reply(channel, ts, operations.step(event))
        threaded[change.id] += 1
    if change.state.finished:  # its last change: nothing more will come to the thread
        threaded.pop(change.id, None)


def _before(events: Sequence[OperationEvent], at: datetime | None) -> int:
    """How many changes came before `at` (a server that just started has not reported them itself)."""
    return len(events) - 1 if at is None else sum(1 for e in events if e.at < at)


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
    """A Notifier that queues operation changes and reports them to chat from its own thread."""

    def __init__(
        self, store: ports.Store, chat: ports.Chat, pipeline: Pipeline, channels: Channels, *, size: int = 1000
    ) -> None:
        self._args = (store, chat, pipeline, channels)
        self._threaded: dict[int, int] = {}  # per operation, the changes in its thread (this thread only)
        self._queue: queue.Queue[Operation | None] = queue.Queue(maxsize=size)
        self._thread = threading.Thread(target=self._run, name="chat-reporter", daemon=True)

    def operation_changed(self, operation: Operation) -> None:
        try:
            self._queue.put_nowait(operation)
        except queue.Full:
            log.warning("chat report dropped: the queue is full", operation=operation.id)

    def deployment_changed(self, deployment: Deployment) -> None:
        return None  # every deployment belongs to an operation, whose message reports it

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def drain(self) -> None:
        """Wait until every queued change is reported (for tests and a clean stop)."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            change = self._queue.get()
            try:
                if change is None:
                    return
                report(*self._args, change, self._threaded)
            except errors.PromobotError as exc:
                log.warning("chat report failed", operation=change.id if change else None, error=str(exc))
            except Exception:
                log.exception("chat report crashed; the reporter goes on")
            finally:
                self._queue.task_done()
