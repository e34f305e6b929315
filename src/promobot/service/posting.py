"""The first chat post of an operation, made exactly once across crashes and replicas.

The reporter claims the post in the store before making it (`Operations.claim_chat_message`): of several
reporters (replicas) exactly one wins; the others update the message once its id is recorded. The winner
posts with the operation's key as message metadata and then records the message's id. If it dies between
the two, its claim goes stale after `stale_after` seconds and the next reporter to claim it looks in the
channel for a message with that key before posting, so a crash neither loses the message nor posts a
second one. The reporting thread is `reporting.ChatReporter`; the fault points are `chat.claimed` and
`chat.posted`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from promobot import ports

STALE_AFTER = 30.0  # seconds after which a claim with no message is taken to be its dead poster's


@dataclass(frozen=True)
class First:
    """The operation's message as the first post left it; `earlier`: made by a reporter that died since."""

    posted: ports.Posted
    earlier: bool


def key(operation_id: int) -> str:
    """The mark on an operation's message that finds it again in its channel."""
    return f"operation-{operation_id}"


def first_post(
    store: ports.Store,
    chat: ports.Chat,
    operation_id: int,
    channel: str,
    message: ports.ChatMessage,
    *,
    stale_after: float = STALE_AFTER,
    checkpoint: Callable[[str], None] = lambda _: None,
) -> First | None:
    """Post the operation's message unless another reporter does (None: report again later)."""
    with store.unit_of_work() as uow:
        claim = uow.operations.claim_chat_message(operation_id, channel, stale_after=stale_after)
        uow.commit()
    if claim is ports.ChatClaim.TAKEN:
        return None
    checkpoint("chat.claimed")
    try:
        found = chat.find(channel, key(operation_id)) if claim is ports.ChatClaim.AGAIN else None
        posted = found or chat.post(channel, message, key=key(operation_id))
    except Exception:
        with store.unit_of_work() as uow:  # the next change claims it again, and looks first
            uow.operations.release_chat_message(operation_id)
            uow.commit()
        raise
    if found is None:
        checkpoint("chat.posted")
    with store.unit_of_work() as uow:
        uow.operations.set_chat_message(operation_id, posted.channel, posted.ts)
        uow.commit()
    return First(posted, earlier=found is not None)
