"""Commands typed in chat (Slack, the console chat, the dashboard's box): parse, call the use case, render.

`answer` serves a known user; `ChatCommands` first maps a chat user id to a promobot user and drops a
delivery it has already handled (Slack's retries, a double click), so neither starts a second operation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog

from promobot import ports
from promobot.domain import errors, grammar
from promobot.domain.operations import Operation
from promobot.domain.people import User
from promobot.messages import board, diffs, freezes, operations, replies
from promobot.service import boards, freezing, queries, requests
from promobot.service.context import Context

log = structlog.get_logger(__name__)
SOURCE = "chat"


@dataclass(frozen=True)
class Answer:
    message: ports.ChatMessage
    operation: Operation | None = None


def _nowhere(app: str, env: str) -> str:
    return ""


def answer(
    ctx: Context,
    user: User,
    text: str,
    channel_of: Callable[[str, str], str] = _nowhere,
    *,
    board: boards.KeptBoard | None = None,
) -> Answer:
    """Do what `text` asks as `user`; a refusal is an Answer too (nothing changed). `list` shows `board`
    (the process's kept board) when given, else reads the whole board."""
    try:
        return _run(ctx, user, grammar.parse(text), channel_of, board)
    except errors.PromobotError as exc:
        return Answer(replies.refusal(exc))


def _run(
    ctx: Context,
    user: User,
    command: grammar.Command,
    channel_of: Callable[[str, str], str],
    kept: boards.KeptBoard | None,
) -> Answer:
    match command:
        case grammar.Promote(artifact, env):
            op = requests.promote(ctx, user, artifact, env)
            return Answer(operations.started(op, channel_of(op.app, op.env)), op)
        case grammar.Rollback(target, env):
            op = requests.rollback(ctx, user, target, env)
            return Answer(operations.started(op, channel_of(op.app, op.env)), op)
        case grammar.Approve(number):
            op = requests.approve(ctx, user, number)
            return Answer(operations.operation(op, ctx.pipeline), op)
        case grammar.Status(number):
            op, events = queries.status(ctx, number)
            return Answer(operations.status(op, events, ctx.pipeline), op)
        case grammar.List():
            rows = kept.board().rows if kept is not None else queries.board(ctx)
            return Answer(board.board(rows, ctx.clock.now()))
        case grammar.Diff(src, dst, app):
            return Answer(diffs.diffs(queries.diff(ctx, src, dst, app)))
        case grammar.History(app, env):
            found = queries.history(ctx, app, env)
            return Answer(replies.history(app, env, found, ctx.clock.now()))
        case grammar.Help(topic):
            return Answer(replies.help_text(topic))
        case grammar.Lock(env, reason):
            return Answer(freezes.locked(freezing.lock(ctx, user, env, reason)))
        case grammar.Unlock(env):
            return Answer(freezes.unlocked(freezing.unlock(ctx, user, env), user.name))
        case grammar.Locks():
            return Answer(freezes.locks(freezing.current(ctx)))
    raise errors.InvalidCommand("unknown command", grammar.usage())  # pragma: no cover


class ChatCommands:
    """`ports.ChatCommands` for a chat workspace whose user ids map to promobot users in the config."""

    def __init__(
        self,
        ctx: Context,
        chat_users: Mapping[str, str],
        channel_of: Callable[[str, str], str] = _nowhere,
        *,
        board: boards.KeptBoard | None = None,
    ) -> None:
        self._ctx = ctx
        self._chat_users = dict(chat_users)
        self._channel_of = channel_of
        self._board = board

    def handle(self, request: ports.ChatRequest) -> ports.ChatMessage:
        name = self._chat_users.get(request.chat_user)
        user = self._ctx.users.get(name) if name else None
        if user is None:
            log.info("chat command from an unmapped user refused", chat_user=request.chat_user)
            return replies.unknown_user(request.chat_user)
        if request.delivery:
            with self._ctx.store.unit_of_work() as uow:
                first = uow.deliveries.first_time(SOURCE, request.delivery[:255])
                uow.commit()
            if not first:
                return replies.already_handled()
        return answer(self._ctx, user, request.text, self._channel_of, board=self._board).message
