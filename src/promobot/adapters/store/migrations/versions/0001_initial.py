"""Initial schema: operations and their events, artifacts, deployments, holds, approvals, deliveries.

Revision ID: 0001
Revises:
Create Date: 2024-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
ONE_ACTIVE = sa.text("state IN ('running', 'awaiting_approval')")


def _id() -> sa.Column[int]:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "operations",
        _id(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("app", sa.String(255), nullable=False),
        sa.Column("env", sa.String(255), nullable=False),
        sa.Column("artifact", sa.String(511), nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("source_revision", sa.String(64), nullable=False),
        sa.Column("target_tag", sa.String(255), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("branch_commit", sa.String(64), nullable=False),
        sa.Column("pr_number", sa.Integer(), nullable=True),
        sa.Column("pr_url", sa.Text(), nullable=False),
        sa.Column("pinned_digest", sa.String(255), nullable=False),
        sa.Column("deployment_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_operations"),
    )
    op.create_index("ix_operations_state_id", "operations", ["state", "id"])
    op.create_index("ix_operations_app_env_id", "operations", ["app", "env", "id"])
    op.create_index(
        "uq_operations_one_active",
        "operations",
        ["app", "env"],
        unique=True,
        sqlite_where=ONE_ACTIVE,
        postgresql_where=ONE_ACTIVE,
    )

    op.create_table(
        "operation_events",
        _id(),
        sa.Column("operation_id", ID, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operation_events"),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name="fk_operation_events_operation_id_operations",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_operation_events_operation_id_id", "operation_events", ["operation_id", "id"])

    op.create_table(
        "artifacts",
        _id(),
        sa.Column("app", sa.String(255), nullable=False),
        sa.Column("tag", sa.String(255), nullable=False),
        sa.Column("digest", sa.String(255), nullable=False),
        sa.Column("source_revision", sa.String(64), nullable=False),
        sa.Column("revision", sa.String(64), nullable=False),
        sa.Column("built_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_artifacts"),
        sa.UniqueConstraint("app", "tag", name="uq_artifacts_app_tag"),
    )
    op.create_index("ix_artifacts_tag", "artifacts", ["tag"])
    op.create_index("ix_artifacts_revision", "artifacts", ["revision"])
    op.create_index("ix_artifacts_source_revision", "artifacts", ["source_revision"])

    op.create_table(
        "deployments",
        _id(),
        sa.Column("app", sa.String(255), nullable=False),
        sa.Column("env", sa.String(255), nullable=False),
        sa.Column("tag", sa.String(255), nullable=False),
        sa.Column("digest", sa.String(255), nullable=False),
        sa.Column("source_revision", sa.String(64), nullable=False),
        sa.Column("revision", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("deployed_by", sa.String(255), nullable=False),
        sa.Column("operation_id", ID, nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deployments"),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name="fk_deployments_operation_id_operations",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_deployments_app_env_id", "deployments", ["app", "env", "id"])
    op.create_index("ix_deployments_app_env_state_id", "deployments", ["app", "env", "state", "id"])
    op.create_index("ix_deployments_operation_id", "deployments", ["operation_id"])

    op.create_table(
        "holds",
        sa.Column("app", sa.String(255), nullable=False),
        sa.Column("env", sa.String(255), nullable=False),
        sa.Column("tag", sa.String(255), nullable=False),
        sa.Column("by", sa.String(255), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("app", "env", name="pk_holds"),
    )

    op.create_table(
        "approvals",
        _id(),
        sa.Column("operation_id", ID, nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("approved_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_approvals"),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name="fk_approvals_operation_id_operations",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("operation_id", "user", name="uq_approvals_operation_id_user"),
    )

    op.create_table(
        "deliveries",
        _id(),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("delivery_id", sa.String(255), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("source", "delivery_id", name="uq_deliveries_source_delivery_id"),
    )
    op.create_index("ix_deliveries_received_at", "deliveries", ["received_at"])


def downgrade() -> None:
    for table in ("deliveries", "approvals", "holds", "deployments", "artifacts", "operation_events"):
        op.drop_table(table)
    op.drop_table("operations")
