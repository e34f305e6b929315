"""`POST /api/commands`: one line of the chat grammar from an API user, answered with the rendered reply.

The console chat (`promobot chat`) and the dashboard's command box use it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from promobot.service import chatting
from promobot.web.auth import App, Caller
from promobot.web.schemas import OperationOut

router = APIRouter(prefix="/api")


class CommandIn(BaseModel):
    text: str = Field(min_length=1, max_length=500, examples=["/promote web:dev-1a2b3c4 qa"])


class CommandOut(BaseModel):
    text: str
    blocks: list[dict[str, Any]]
    operation: OperationOut | None


@router.post("/commands")
def command(body: CommandIn, user: Caller, app: App) -> CommandOut:
    """Run one chat command as the caller; a refusal is a normal answer (its text says what was wrong)."""
    answer = chatting.answer(app.ctx, user, body.text, board=app.board)
    operation = OperationOut.of(answer.operation) if answer.operation is not None else None
    return CommandOut(text=answer.message.text, blocks=list(answer.message.blocks), operation=operation)
