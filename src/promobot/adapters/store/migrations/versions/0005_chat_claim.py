"""The first chat post of an operation is claimed in the store before it is made (`chat_claimed_at`).

A reporter claims the message by setting the column while `chat_ts` is still empty; exactly one claim
succeeds, so replicas never both post an operation's first message, and a claim that never got its `chat_ts`
(the poster died) is taken over only after it went stale, with a look in the channel first.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("chat_claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("chat_claimed_at")
