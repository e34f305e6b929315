"""The newest deployment of each (app, env) kept in `current_deployments`, so `list` reads no history.

Filled from the existing history (the highest id of each pair); from here on `SqlDeployments.add` moves
the pair's row in the same transaction as the deployment it adds.

Revision ID: 0004
Revises: 0003
Create Date: 2024-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BACKFILL = (
    "INSERT INTO current_deployments (app, env, deployment_id) "
    "SELECT app, env, max(id) FROM deployments GROUP BY app, env"
)


def upgrade() -> None:
    op.create_table(
        "current_deployments",
        sa.Column("app", sa.String(255), nullable=False),
        sa.Column("env", sa.String(255), nullable=False),
        sa.Column("deployment_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_current_deployments_deployment_id_deployments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("app", "env", name="pk_current_deployments"),
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("current_deployments")
