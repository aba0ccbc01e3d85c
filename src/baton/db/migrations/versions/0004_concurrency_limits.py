"""Concurrency limits (global, and tag limits named "tag:<tag>") and their leases.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Self-contained on purpose: a migration must not change when the app's code does.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "concurrency_limit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("updated", TIMESTAMP, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("active_slots", sa.Float(), nullable=False, server_default="0"),
        sa.Column("denied_slots", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("slot_decay_per_second", sa.Float(), nullable=False, server_default="0"),
        sa.Column("avg_slot_occupancy_seconds", sa.Float(), nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("id", name="pk_concurrency_limit"),
        sa.UniqueConstraint("name", name="uq_concurrency_limit__name"),
    )
    op.create_table(
        "concurrency_lease",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("expires", TIMESTAMP),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("holder_type", sa.String(20)),
        sa.Column("holder_id", sa.Uuid()),
        sa.PrimaryKeyConstraint("id", name="pk_concurrency_lease"),
    )
    op.create_index("ix_concurrency_lease__expires", "concurrency_lease", ["expires"])
    op.create_index("ix_concurrency_lease__holder_id", "concurrency_lease", ["holder_id"])
    op.create_table(
        "concurrency_lease_limit",
        sa.Column("lease_id", sa.Uuid(), nullable=False),
        sa.Column("limit_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lease_id"],
            ["concurrency_lease.id"],
            name="fk_concurrency_lease_limit__lease_id__concurrency_lease",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["limit_id"],
            ["concurrency_limit.id"],
            name="fk_concurrency_lease_limit__limit_id__concurrency_limit",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lease_id", "limit_id", name="pk_concurrency_lease_limit"),
    )
    op.create_index("ix_concurrency_lease_limit__limit_id", "concurrency_lease_limit", ["limit_id"])


def downgrade() -> None:
    for table in ("concurrency_lease_limit", "concurrency_lease", "concurrency_limit"):
        op.drop_table(table)
