"""API keys, UI users and the audit log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Self-contained on purpose: a migration must not change when the app's code does.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("expires", TIMESTAMP),
        sa.Column("revoked", TIMESTAMP),
        sa.Column("last_used", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_api_key"),
        sa.UniqueConstraint("hash", name="uq_api_key__hash"),
    )
    op.create_table(
        "ui_user",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_ui_user"),
        sa.UniqueConstraint("name", name="uq_ui_user__name"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("role", sa.String(20)),
        sa.Column("action", sa.String(300), nullable=False),
        sa.Column("object", sa.String(1000), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(255)),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit__at", "audit", ["at"])


def downgrade() -> None:
    for table in ("audit", "ui_user", "api_key"):
        op.drop_table(table)
