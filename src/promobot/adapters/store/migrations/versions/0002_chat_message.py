"""Each operation remembers the chat message that reports it, so updates continue after a restart.

Revision ID: 0002
Revises: 0001
Create Date: 2024-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("chat_channel", sa.String(255), nullable=False, server_default=""))
        batch.add_column(sa.Column("chat_ts", sa.String(255), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("chat_ts")
        batch.drop_column("chat_channel")
