"""Variables, artifacts and the per-key artifact collection.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Self-contained on purpose: a migration must not change when the app's code does.
# JSON is TEXT on SQLite (see 0001) and JSONB on PostgreSQL.
JSON = sa.Text().with_variant(postgresql.JSONB(), "postgresql")


def timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "variable",
        sa.Column("id", sa.Uuid(), nullable=False),
        *timestamps(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", JSON),
        sa.Column("tags", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_variable"),
        sa.UniqueConstraint("name", name="uq_variable__name"),
    )

    op.create_table(
        "artifact",
        sa.Column("id", sa.Uuid(), nullable=False),
        *timestamps(),
        sa.Column("key", sa.String(255)),
        sa.Column("type", sa.String(255)),
        sa.Column("description", sa.Text()),
        sa.Column("data", JSON),
        sa.Column("metadata_", JSON),
        sa.Column("flow_run_id", sa.Uuid()),
        sa.Column("task_run_id", sa.Uuid()),
        sa.PrimaryKeyConstraint("id", name="pk_artifact"),
    )
    for cols in (["key", "created"], ["flow_run_id"], ["task_run_id"]):
        op.create_index(f"ix_artifact__{'_'.join(cols)}", "artifact", cols)

    op.create_table(
        "artifact_collection",
        sa.Column("id", sa.Uuid(), nullable=False),
        *timestamps(),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("latest_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_artifact_collection"),
        sa.UniqueConstraint("key", name="uq_artifact_collection__key"),
    )


def downgrade() -> None:
    for table in ("artifact_collection", "artifact", "variable"):
        op.drop_table(table)
