"""Deployments and their schedules; work pools, their queues and workers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Self-contained on purpose: a migration must not change when the app's code does.
JSON = sa.Text().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def ids_and_times() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("updated", TIMESTAMP, nullable=False),
    ]


def belongs_to(table: str, column: str, parent: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{parent}.id"], name=f"fk_{table}__{column}__{parent}", ondelete=ondelete
    )


def upgrade() -> None:
    # A worker's claim on a Scheduled run: no other poll hands it out until it expires.
    with op.batch_alter_table("flow_run") as batch:
        batch.add_column(sa.Column("claimed_until", TIMESTAMP))
    op.create_table(
        "work_pool",
        *ids_and_times(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("base_job_template", JSON, nullable=False),
        sa.Column("is_paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("concurrency_limit", sa.Integer()),
        sa.Column("default_queue_id", sa.Uuid()),
        sa.Column("storage_configuration", JSON),
        sa.PrimaryKeyConstraint("id", name="pk_work_pool"),
        sa.UniqueConstraint("name", name="uq_work_pool__name"),
    )
    op.create_table(
        "work_queue",
        *ids_and_times(),
        sa.Column("work_pool_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("is_paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("concurrency_limit", sa.Integer()),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("last_polled", TIMESTAMP),
        sa.Column("filter", JSON),
        belongs_to("work_queue", "work_pool_id", "work_pool", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_work_queue"),
        sa.UniqueConstraint("work_pool_id", "name", name="uq_work_queue__work_pool_id_name"),
    )
    op.create_index(
        "ix_work_queue__work_pool_id_priority", "work_queue", ["work_pool_id", "priority"]
    )
    op.create_table(
        "worker",
        *ids_and_times(),
        sa.Column("work_pool_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("last_heartbeat_time", TIMESTAMP, nullable=False),
        sa.Column("heartbeat_interval_seconds", sa.Integer()),
        belongs_to("worker", "work_pool_id", "work_pool", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_worker"),
        sa.UniqueConstraint("work_pool_id", "name", name="uq_worker__work_pool_id_name"),
    )
    op.create_index(
        "ix_worker__work_pool_id_last_heartbeat_time",
        "worker",
        ["work_pool_id", "last_heartbeat_time"],
    )
    op.create_table(
        "deployment",
        *ids_and_times(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.String(255)),
        sa.Column("version_info", JSON),
        sa.Column("description", sa.Text()),
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("labels", JSON),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("parameter_openapi_schema", JSON),
        sa.Column(
            "enforce_parameter_schema", sa.Boolean(), nullable=False, server_default=sa.true()
        ),
        sa.Column("job_variables", JSON, nullable=False),
        sa.Column("pull_steps", JSON),
        sa.Column("path", sa.Text()),
        sa.Column("entrypoint", sa.Text()),
        sa.Column("storage_document_id", sa.Uuid()),
        sa.Column("infrastructure_document_id", sa.Uuid()),
        sa.Column("work_queue_name", sa.String(255)),
        sa.Column("work_queue_id", sa.Uuid()),
        sa.Column("concurrency_limit", sa.Integer()),
        sa.Column("concurrency_options", JSON),
        sa.Column("last_polled", TIMESTAMP),
        sa.Column("created_by", JSON),
        sa.Column("updated_by", JSON),
        belongs_to("deployment", "flow_id", "flow", "CASCADE"),
        belongs_to("deployment", "work_queue_id", "work_queue", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_deployment"),
        sa.UniqueConstraint("flow_id", "name", name="uq_deployment__flow_id_name"),
    )
    op.create_index("ix_deployment__work_queue_id", "deployment", ["work_queue_id"])
    op.create_index("ix_deployment__updated", "deployment", ["updated"])
    op.create_table(
        "deployment_schedule",
        *ids_and_times(),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("schedule", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("max_scheduled_runs", sa.Integer()),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("slug", sa.String(255)),
        sa.Column("catchup_window", sa.Float()),
        belongs_to("deployment_schedule", "deployment_id", "deployment", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_deployment_schedule"),
        sa.UniqueConstraint(
            "deployment_id", "slug", name="uq_deployment_schedule__deployment_id_slug"
        ),
    )


def downgrade() -> None:
    for table in ("deployment_schedule", "deployment", "worker", "work_queue", "work_pool"):
        op.drop_table(table)
    with op.batch_alter_table("flow_run") as batch:
        batch.drop_column("claimed_until")
