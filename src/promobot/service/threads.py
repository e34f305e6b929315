"""The thread under an operation's chat message: one line per state change, each exactly once.

Each line is posted with a key naming the operation and the change it reports (`operation-12/3`: the third
change of operation 12) as message metadata, so the thread itself says which lines it holds. A reporter
that knows the thread's progress (`known`: it posted the lines so far itself, and nobody else changed the
operation since) posts the new lines at once. Otherwise (after a restart, after a crash between posting a
line and remembering it, or when another replica changed the operation) it reads the thread first
(`Chat.thread`) and posts only the lines not there. Having posted after reading, it reads again: when two
replicas posted the same line at the same moment, every copy but the oldest is deleted, so one stays (a
copy that lands after that second read is deleted by the next read of the thread, whoever makes it).
The reporter is `reporting.report`. After each line it calls the checkpoint `chat.replied` (posted, not yet
noted); tests kill the reporter there. It is not among `promobot.faults.POINTS`, which the crash harness
must exercise every one of.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from promobot import ports
from promobot.domain.operations import OperationEvent
from promobot.messages import operations
from promobot.service import posting


def line_key(operation_id: int, number: int) -> str:
    """The mark on the thread line of the operation's `number`th change (from 1)."""
    return f"{posting.key(operation_id)}/{number}"


def answer(
    chat: ports.Chat,
    channel: str,
    ts: str,
    operation_id: int,
    events: Sequence[OperationEvent],
    known: int | None,
    *,
    checkpoint: Callable[[str], None],
) -> int:
    """Add the line of every change in `events` not yet in the thread of message `ts`, oldest first.

    `known`: how many lines the thread holds for sure (None: read the thread). Returns how many it holds now.
    """
    keys = [line_key(operation_id, number) for number in range(1, len(events) + 1)]
    there = set(keys[:known]) if known is not None else _tidy(chat, channel, chat.thread(channel, ts))
    posted = False
    for key, event in zip(keys, events, strict=True):
        if key not in there:
            chat.reply(channel, ts, operations.step(event), key=key)
            checkpoint("chat.replied")
            posted = True
    if posted and known is None:  # another reporter may have posted some of them meanwhile
        _tidy(chat, channel, chat.thread(channel, ts))
    return len(events)


def _tidy(chat: ports.Chat, channel: str, replies: Sequence[ports.Replied]) -> set[str]:
    """The keys of the thread's lines; a line there twice loses its later copies (the oldest is never deleted,
    so whichever reporters tidy at once, one copy stays)."""
    seen: set[str] = set()
    for reply in replies:
        if not reply.key:
            continue  # someone's answer in the thread
        if reply.key in seen:
            chat.delete(channel, reply.ts)
        seen.add(reply.key)
    return seen
