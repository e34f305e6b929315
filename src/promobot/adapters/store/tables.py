"""The schema as SQLAlchemy Core tables: what the repositories query and Alembic compares against.

Enums are stored as their string values. At most one operation per (app, env) may be active (running or
awaiting approval): a partial unique index enforces it, so a lost race fails instead of running two.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from promobot.adapters.store.timestamps import UtcDateTime

NAME = 255  # apps, environments, tags, users
SHA = 64  # commit ids and digests fit; digests carry an algorithm prefix, so they get NAME
ENUM = 32

ONE_ACTIVE = text("state IN ('running', 'awaiting_approval')")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

operations = Table(
    "operations",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("kind", String(ENUM), nullable=False),
    Column("app", String(NAME), nullable=False),
    Column("env", String(NAME), nullable=False),
    Column("artifact", String(2 * NAME + 1), nullable=False),
    Column("requested_by", String(NAME), nullable=False),
    Column("source_revision", String(SHA), nullable=False),
    Column("target_tag", String(NAME), nullable=False),
    Column("state", String(ENUM), nullable=False),
    Column("step", String(ENUM), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("branch_commit", String(SHA), nullable=False),
    Column("pr_number", Integer, nullable=True),
    Column("pr_url", Text, nullable=False),
    Column("pinned_digest", String(NAME), nullable=False),
    Column("deployment_id", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
    Column("chat_channel", String(NAME), nullable=False, server_default=""),
    Column("chat_ts", String(NAME), nullable=False, server_default=""),
    Column("chat_claimed_at", UtcDateTime, nullable=True),  # the first post claimed, not yet made
    Index(None, "state", "id"),
    Index(None, "app", "env", "id"),
    Index(
        "uq_operations_one_active",
        "app",
        "env",
        unique=True,
        sqlite_where=ONE_ACTIVE,
        postgresql_where=ONE_ACTIVE,
    ),
)

operation_events = Table(
    "operation_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column(
        "operation_id",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("operations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("state", String(ENUM), nullable=False),
    Column("step", String(ENUM), nullable=False),
    Column("message", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "operation_id", "id"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("app", String(NAME), nullable=False),
    Column("tag", String(NAME), nullable=False),
    Column("digest", String(NAME), nullable=False),
    Column("source_revision", String(SHA), nullable=False),
    Column("revision", String(SHA), nullable=False),
    Column("built_at", UtcDateTime, nullable=False),
    UniqueConstraint("app", "tag"),
    Index(None, "tag"),
    Index(None, "revision"),
    Index(None, "source_revision"),
)

deployments = Table(
    "deployments",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("app", String(NAME), nullable=False),
    Column("env", String(NAME), nullable=False),
    Column("tag", String(NAME), nullable=False),
    Column("digest", String(NAME), nullable=False),
    Column("source_revision", String(SHA), nullable=False),
    Column("revision", String(SHA), nullable=False),
    Column("state", String(ENUM), nullable=False),
    Column("deployed_by", String(NAME), nullable=False),
    Column(
        "operation_id",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("operations.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("url", Text, nullable=False),
    Column("message", Text, nullable=False),
    Index(None, "app", "env", "id"),
    Index(None, "app", "env", "state", "id"),
    Index(None, "operation_id"),
)

# The newest deployment of each (app, env), kept by SqlDeployments.add (migration 0004): `list` reads these
# 4,000 rows instead of a group-wise max over the whole history.
current_deployments = Table(
    "current_deployments",
    metadata,
    Column("app", String(NAME), primary_key=True),
    Column("env", String(NAME), primary_key=True),
    Column(
        "deployment_id",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("deployments.id", ondelete="CASCADE"),
        nullable=False,
    ),
)

holds = Table(
    "holds",
    metadata,
    Column("app", String(NAME), primary_key=True),
    Column("env", String(NAME), primary_key=True),
    Column("tag", String(NAME), nullable=False),
    Column("by", String(NAME), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

approvals = Table(
    "approvals",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column(
        "operation_id",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("operations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("user", String(NAME), nullable=False),
    Column("approved_at", UtcDateTime, nullable=False),
    UniqueConstraint("operation_id", "user"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("source", String(NAME), nullable=False),
    Column("delivery_id", String(NAME), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("source", "delivery_id"),
    Index(None, "received_at"),
)

locks = Table(
    "locks",
    metadata,
    Column("env", String(NAME), primary_key=True),
    Column("by", String(NAME), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

# Append-only: on PostgreSQL and SQLite a trigger (migration 0003) refuses UPDATE and DELETE of its rows.
audit = Table(
    "audit",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(NAME), nullable=False),
    Column("action", String(ENUM), nullable=False),
    Column("subject", Text, nullable=False),
    Column("outcome", String(NAME), nullable=False),
    Column("detail", Text, nullable=False),
    Column("operation_id", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
    Index(None, "actor", "id"),
    Index(None, "operation_id"),
    Index(None, "at"),
)

# The change log (migration 0006): one row per change the board shows (an operation or a deployment added
# or saved), written in the same transaction as the change. Its id is the store's change counter: `list`
# is cached per newest id, and every replica's event stream follows the table. Pruned by age and count.
changes = Table(
    "changes",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("kind", String(ENUM), nullable=False),
    Column("app", String(NAME), nullable=False),
    Column("env", String(NAME), nullable=False),
    Column("subject_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "at"),
    sqlite_autoincrement=True,  # ids never reused, even after the newest rows were pruned
)
