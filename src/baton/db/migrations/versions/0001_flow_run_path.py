"""The flow-run path: flows, flow runs, task runs, their state histories, logs, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Self-contained on purpose: a migration must not change when the app's code does.
# JSON is TEXT on SQLite (a column declared JSON there has numeric affinity and mangles
# bare numbers) and JSONB on PostgreSQL.
JSON = sa.Text().with_variant(postgresql.JSONB(), "postgresql")


def ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def timestamps() -> list[sa.Column[object]]:
    return [ts("created", nullable=False), ts("updated", nullable=False)]


def current_state() -> list[sa.Column[object]]:
    return [
        sa.Column("state_id", sa.Uuid()),
        sa.Column("state_type", sa.String(20)),
        sa.Column("state_name", sa.String(100)),
        ts("state_timestamp"),
        sa.Column("state_message", sa.Text()),
        sa.Column("state_details", JSON),
        sa.Column("state_data", JSON),
    ]


def run_timing() -> list[sa.Column[object]]:
    return [
        sa.Column("run_count", sa.Integer(), nullable=False, server_default="0"),
        ts("expected_start_time"),
        ts("next_scheduled_start_time"),
        ts("start_time"),
        ts("end_time"),
        sa.Column("total_run_time", sa.Float(), nullable=False, server_default="0"),
    ]


def state_history(name: str, run_table: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Uuid(), nullable=False),
        ts("created", nullable=False),
        sa.Column(f"{run_table}_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        ts("timestamp", nullable=False),
        sa.Column("message", sa.Text()),
        sa.Column("state_details", JSON, nullable=False),
        sa.Column("data", JSON),
        sa.ForeignKeyConstraint(
            [f"{run_table}_id"],
            [f"{run_table}.id"],
            name=f"fk_{name}__{run_table}_id__{run_table}",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}__{run_table}_id_timestamp", name, [f"{run_table}_id", "timestamp"])


def upgrade() -> None:
    op.create_table(
        "flow",
        sa.Column("id", sa.Uuid(), nullable=False),
        *timestamps(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("labels", JSON),
        sa.PrimaryKeyConstraint("id", name="pk_flow"),
        sa.UniqueConstraint("name", name="uq_flow__name"),
    )

    op.create_table(
        "flow_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        *timestamps(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid()),
        sa.Column("deployment_version", sa.String(255)),
        sa.Column("work_queue_id", sa.Uuid()),
        sa.Column("work_queue_name", sa.String(255)),
        sa.Column("work_pool_id", sa.Uuid()),
        sa.Column("work_pool_name", sa.String(255)),
        sa.Column("flow_version", sa.String(255)),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("idempotency_key", sa.String(512)),
        sa.Column("context", JSON, nullable=False),
        sa.Column("empirical_policy", JSON, nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("labels", JSON),
        sa.Column("parent_task_run_id", sa.Uuid()),
        *current_state(),
        *run_timing(),
        sa.Column("auto_scheduled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("infrastructure_document_id", sa.Uuid()),
        sa.Column("infrastructure_pid", sa.String(255)),
        sa.Column("created_by", JSON),
        sa.Column("job_variables", JSON),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flow.id"], name="fk_flow_run__flow_id__flow", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_flow_run"),
        sa.UniqueConstraint(
            "flow_id", "idempotency_key", name="uq_flow_run__flow_id_idempotency_key"
        ),
    )
    for cols in (
        ["flow_id", "expected_start_time"],
        ["state_type", "expected_start_time"],
        ["expected_start_time"],
        ["deployment_id", "expected_start_time"],
        ["work_queue_id", "next_scheduled_start_time"],
        ["parent_task_run_id"],
        ["name"],
    ):
        op.create_index(f"ix_flow_run__{'_'.join(cols)}", "flow_run", cols)

    state_history("flow_run_state", "flow_run")

    op.create_table(
        "task_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        *timestamps(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("flow_run_id", sa.Uuid()),
        sa.Column("task_key", sa.String(255), nullable=False),
        sa.Column("dynamic_key", sa.String(255), nullable=False),
        sa.Column("cache_key", sa.String(2000)),
        ts("cache_expiration"),
        sa.Column("task_version", sa.String(255)),
        sa.Column("empirical_policy", JSON, nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("labels", JSON),
        sa.Column("task_inputs", JSON, nullable=False),
        *current_state(),
        *run_timing(),
        sa.Column("flow_run_run_count", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["flow_run_id"],
            ["flow_run.id"],
            name="fk_task_run__flow_run_id__flow_run",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_task_run"),
        sa.UniqueConstraint(
            "flow_run_id",
            "task_key",
            "dynamic_key",
            name="uq_task_run__flow_run_id_task_key_dynamic_key",
        ),
    )
    for cols in (
        ["flow_run_id", "expected_start_time"],
        ["state_type", "expected_start_time"],
        ["expected_start_time"],
    ):
        op.create_index(f"ix_task_run__{'_'.join(cols)}", "task_run", cols)

    state_history("task_run_state", "task_run")

    op.create_table(
        "log",
        sa.Column("id", sa.Uuid(), nullable=False),
        *timestamps(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        ts("timestamp", nullable=False),
        sa.Column("flow_run_id", sa.Uuid()),
        sa.Column("task_run_id", sa.Uuid()),
        sa.PrimaryKeyConstraint("id", name="pk_log"),
    )
    for cols in (["flow_run_id", "timestamp"], ["task_run_id", "timestamp"], ["timestamp"]):
        op.create_index(f"ix_log__{'_'.join(cols)}", "log", cols)

    op.create_table(
        "event",
        sa.Column("id", sa.Uuid(), nullable=False),
        ts("occurred", nullable=False),
        ts("received", nullable=False),
        sa.Column("event", sa.String(255), nullable=False),
        sa.Column("resource_id", sa.String(255), nullable=False),
        sa.Column("resource", JSON, nullable=False),
        sa.Column("related", JSON, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("follows", sa.Uuid()),
        sa.PrimaryKeyConstraint("id", name="pk_event"),
    )
    for cols in (["occurred"], ["event", "occurred"], ["resource_id", "occurred"]):
        op.create_index(f"ix_event__{'_'.join(cols)}", "event", cols)

    op.create_table(
        "event_resource",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.String(255), nullable=False),
        sa.Column("resource_role", sa.String(100), nullable=False),
        ts("occurred", nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name="fk_event_resource__event_id__event",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "event_id", "resource_id", "resource_role", name="pk_event_resource"
        ),
    )
    op.create_index(
        "ix_event_resource__resource_id_occurred", "event_resource", ["resource_id", "occurred"]
    )


def downgrade() -> None:
    for table in (
        "event_resource",
        "event",
        "log",
        "task_run_state",
        "task_run",
        "flow_run_state",
        "flow_run",
        "flow",
    ):
        op.drop_table(table)
