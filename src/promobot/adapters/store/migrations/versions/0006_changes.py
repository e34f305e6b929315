"""The change log: one row per operation or deployment change the board shows, in the change's transaction.

Its id is the store's change counter (`list` is cached per newest id and answers 304 to an unchanged
ETag) and every replica's event stream follows it, so each sees the changes the others made. It starts
empty: nothing before this revision is replayed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("app", sa.String(255), nullable=False),
        sa.Column("env", sa.String(255), nullable=False),
        sa.Column("subject_id", ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_changes"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_changes_at", "changes", ["at"])


def downgrade() -> None:
    op.drop_index("ix_changes_at", table_name="changes")
    op.drop_table("changes")
