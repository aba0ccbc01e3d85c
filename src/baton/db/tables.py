"""The schema, as SQLAlchemy Core tables. Migrations in `migrations/` create exactly this.

Design notes:
- ids are UUIDs; task-run ids and their state ids come from the client, the rest from the server.
- A run row carries a copy of its current state (state_id, state_type, state_name,
  state_timestamp, state_message, state_details, state_data), so a run and its state are
  read in one round trip; the full history lives in *_run_state.
- Timestamps are UTC (`Timestamp`); JSON columns hold parameters, policies, labels, details.
- Indexes follow the queries of the API and UI: runs by state and expected start, by flow,
  by deployment, by work queue and next scheduled start; logs by run and time; events by
  time, name and resource.
"""

from __future__ import annotations

import sqlalchemy as sa

from baton.db.types import JSON, Timestamp

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s__%(column_0_N_name)s",
        "uq": "uq_%(table_name)s__%(column_0_N_name)s",
        "fk": "fk_%(table_name)s__%(column_0_name)s__%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
    ]


def _current_state() -> list[sa.Column[object]]:
    return [
        sa.Column("state_id", sa.Uuid()),
        sa.Column("state_type", sa.String(20)),
        sa.Column("state_name", sa.String(100)),
        sa.Column("state_timestamp", Timestamp()),
        sa.Column("state_message", sa.Text()),
        sa.Column("state_details", JSON),
        sa.Column("state_data", JSON),
    ]


def _run_timing() -> list[sa.Column[object]]:
    return [
        sa.Column("run_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("expected_start_time", Timestamp()),
        sa.Column("next_scheduled_start_time", Timestamp()),
        sa.Column("start_time", Timestamp()),
        sa.Column("end_time", Timestamp()),
        sa.Column("total_run_time", sa.Float(), nullable=False, server_default="0"),
    ]


def _state_history(name: str, run_table: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column(
            f"{run_table}_id",
            sa.Uuid(),
            sa.ForeignKey(f"{run_table}.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("timestamp", Timestamp(), nullable=False),
        sa.Column("message", sa.Text()),
        sa.Column("state_details", JSON, nullable=False),
        sa.Column("data", JSON),
        sa.Index(None, f"{run_table}_id", "timestamp"),
    )


flow = sa.Table(
    "flow",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_timestamps(),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("tags", JSON, nullable=False),
    sa.Column("labels", JSON),
)

flow_run = sa.Table(
    "flow_run",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_timestamps(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("flow_id", sa.Uuid(), sa.ForeignKey("flow.id", ondelete="CASCADE"), nullable=False),
    # Deployments, work queues and pools arrive with later migrations; their ids are kept
    # without a foreign key so a deleted deployment leaves its past runs in place.
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
    *_current_state(),
    *_run_timing(),
    sa.Column("auto_scheduled", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("infrastructure_document_id", sa.Uuid()),
    sa.Column("infrastructure_pid", sa.String(255)),
    sa.Column("created_by", JSON),
    sa.Column("job_variables", JSON),
    # While in the future, a worker has been handed this Scheduled run and no other poll
    # returns it (migration 0003).
    sa.Column("claimed_until", Timestamp()),
    # One run per (flow, idempotency key): the scheduler and create_flow_run rely on it.
    sa.UniqueConstraint("flow_id", "idempotency_key"),
    sa.Index(None, "flow_id", "expected_start_time"),
    sa.Index(None, "state_type", "expected_start_time"),
    sa.Index(None, "expected_start_time"),
    sa.Index(None, "deployment_id", "expected_start_time"),
    sa.Index(None, "work_queue_id", "next_scheduled_start_time"),
    # A queue's runs in some states (its slots in use, its late runs): migration 0006.
    sa.Index(None, "work_queue_id", "state_type"),
    sa.Index(None, "parent_task_run_id"),
    sa.Index(None, "name"),
)

flow_run_state = _state_history("flow_run_state", "flow_run")

task_run = sa.Table(
    "task_run",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_timestamps(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("flow_run_id", sa.Uuid(), sa.ForeignKey("flow_run.id", ondelete="CASCADE")),
    sa.Column("task_key", sa.String(255), nullable=False),
    sa.Column("dynamic_key", sa.String(255), nullable=False),
    sa.Column("cache_key", sa.String(2000)),
    sa.Column("cache_expiration", Timestamp()),
    sa.Column("task_version", sa.String(255)),
    sa.Column("empirical_policy", JSON, nullable=False),
    sa.Column("tags", JSON, nullable=False),
    sa.Column("labels", JSON),
    sa.Column("task_inputs", JSON, nullable=False),
    *_current_state(),
    *_run_timing(),
    sa.Column("flow_run_run_count", sa.Integer(), nullable=False, server_default="0"),
    sa.UniqueConstraint("flow_run_id", "task_key", "dynamic_key"),
    sa.Index(None, "flow_run_id", "expected_start_time"),
    sa.Index(None, "state_type", "expected_start_time"),
    sa.Index(None, "expected_start_time"),
)

task_run_state = _state_history("task_run_state", "task_run")

log = sa.Table(
    "log",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_timestamps(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("level", sa.SmallInteger(), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("timestamp", Timestamp(), nullable=False),
    # No foreign keys: logs may arrive before the task run they name is recorded.
    sa.Column("flow_run_id", sa.Uuid()),
    sa.Column("task_run_id", sa.Uuid()),
    sa.Index(None, "flow_run_id", "timestamp"),
    sa.Index(None, "task_run_id", "timestamp"),
    sa.Index(None, "timestamp"),
)

event = sa.Table(
    "event",
    metadata,
    # The client's event id: re-sent events after a reconnect are de-duplicated on it.
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("occurred", Timestamp(), nullable=False),
    sa.Column("received", Timestamp(), nullable=False),
    sa.Column("event", sa.String(255), nullable=False),
    sa.Column("resource_id", sa.String(255), nullable=False),
    sa.Column("resource", JSON, nullable=False),
    sa.Column("related", JSON, nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("follows", sa.Uuid()),
    sa.Index(None, "occurred"),
    sa.Index(None, "event", "occurred"),
    sa.Index(None, "resource_id", "occurred"),
)

# One row per (event, resource it names): the primary resource and every related one,
# so events can be filtered by any resource without scanning JSON.
event_resource = sa.Table(
    "event_resource",
    metadata,
    sa.Column(
        "event_id", sa.Uuid(), sa.ForeignKey("event.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("resource_id", sa.String(255), primary_key=True),
    sa.Column("resource_role", sa.String(100), primary_key=True),
    sa.Column("occurred", Timestamp(), nullable=False),
    sa.Index(None, "resource_id", "occurred"),
)


variable = sa.Table(
    "variable",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_timestamps(),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("value", JSON),  # any JSON: string, number, object, list or null
    sa.Column("tags", JSON, nullable=False),
)

artifact = sa.Table(
    "artifact",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_timestamps(),
    sa.Column("key", sa.String(255)),
    sa.Column("type", sa.String(255)),
    sa.Column("description", sa.Text()),
    sa.Column("data", JSON),
    sa.Column("metadata_", JSON),
    # No foreign keys: an artifact may name a task run whose events have not arrived yet.
    sa.Column("flow_run_id", sa.Uuid()),
    sa.Column("task_run_id", sa.Uuid()),
    sa.Index(None, "key", "created"),
    sa.Index(None, "flow_run_id"),
    sa.Index(None, "task_run_id"),
)

# One row per artifact key, pointing at its latest artifact (by created, then id); the
# latest artifact's fields are read through the join, so they are never copied or stale.
artifact_collection = sa.Table(
    "artifact_collection",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_timestamps(),
    sa.Column("key", sa.String(255), nullable=False, unique=True),
    sa.Column("latest_id", sa.Uuid(), nullable=False),
)

# --- deployments, schedules, work pools, queues and workers (migration 0003) -------------

work_pool = sa.Table(
    "work_pool",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_timestamps(),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("description", sa.Text()),
    sa.Column("type", sa.String(255), nullable=False),
    sa.Column("base_job_template", JSON, nullable=False),
    sa.Column("is_paused", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("concurrency_limit", sa.Integer()),
    # No foreign key: the pool and its default queue reference each other.
    sa.Column("default_queue_id", sa.Uuid()),
    sa.Column("storage_configuration", JSON),
)

work_queue = sa.Table(
    "work_queue",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_timestamps(),
    sa.Column(
        "work_pool_id",
        sa.Uuid(),
        sa.ForeignKey("work_pool.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text()),
    sa.Column("is_paused", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("concurrency_limit", sa.Integer()),
    sa.Column("priority", sa.Integer(), nullable=False),
    sa.Column("last_polled", Timestamp()),
    sa.Column("filter", JSON),
    sa.UniqueConstraint("work_pool_id", "name"),
    sa.Index(None, "work_pool_id", "priority"),
)

worker = sa.Table(
    "worker",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_timestamps(),
    sa.Column(
        "work_pool_id",
        sa.Uuid(),
        sa.ForeignKey("work_pool.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("last_heartbeat_time", Timestamp(), nullable=False),
    sa.Column("heartbeat_interval_seconds", sa.Integer()),
    sa.UniqueConstraint("work_pool_id", "name"),
    sa.Index(None, "work_pool_id", "last_heartbeat_time"),
)

deployment = sa.Table(
    "deployment",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_timestamps(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("flow_id", sa.Uuid(), sa.ForeignKey("flow.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.String(255)),
    sa.Column("version_info", JSON),
    sa.Column("description", sa.Text()),
    sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("tags", JSON, nullable=False),
    sa.Column("labels", JSON),
    sa.Column("parameters", JSON, nullable=False),
    sa.Column("parameter_openapi_schema", JSON),
    sa.Column("enforce_parameter_schema", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("job_variables", JSON, nullable=False),
    sa.Column("pull_steps", JSON),
    sa.Column("path", sa.Text()),
    sa.Column("entrypoint", sa.Text()),
    sa.Column("storage_document_id", sa.Uuid()),
    sa.Column("infrastructure_document_id", sa.Uuid()),
    sa.Column("work_queue_name", sa.String(255)),
    sa.Column("work_queue_id", sa.Uuid(), sa.ForeignKey("work_queue.id", ondelete="SET NULL")),
    sa.Column("concurrency_limit", sa.Integer()),
    sa.Column("concurrency_options", JSON),
    # When a runner or worker last asked for this deployment's runs: READY while recent.
    sa.Column("last_polled", Timestamp()),
    sa.Column("created_by", JSON),
    sa.Column("updated_by", JSON),
    sa.UniqueConstraint("flow_id", "name"),
    sa.Index(None, "work_queue_id"),
    sa.Index(None, "updated"),
)

deployment_schedule = sa.Table(
    "deployment_schedule",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_timestamps(),
    sa.Column(
        "deployment_id",
        sa.Uuid(),
        sa.ForeignKey("deployment.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("schedule", JSON, nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("max_scheduled_runs", sa.Integer()),
    sa.Column("parameters", JSON, nullable=False),
    sa.Column("slug", sa.String(255)),
    # Catch-up (a Baton extension): runs this schedule missed in the last this-many
    # seconds (while the server was down) are still created; null means skip them.
    sa.Column("catchup_window", sa.Float()),
    sa.UniqueConstraint("deployment_id", "slug"),
)

# --- concurrency limits and their leases (migration 0004) ---------------------------------

# A global (v2) limit; a tag (v1) limit is the one named "tag:<tag>".
concurrency_limit = sa.Table(
    "concurrency_limit",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    *_timestamps(),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("limit", sa.Integer(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    # Slots in use as of `updated` (a float: a rate limit's slots decay continuously);
    # the decay since `updated` is applied whenever the row is read or written.
    sa.Column("active_slots", sa.Float(), nullable=False, server_default="0"),
    sa.Column("denied_slots", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("slot_decay_per_second", sa.Float(), nullable=False, server_default="0"),
    # How long a slot is usually held: what a refused caller is told to wait.
    sa.Column("avg_slot_occupancy_seconds", sa.Float(), nullable=False, server_default="1"),
)

# Slots held on one or more limits until released or, if `expires` passes, given back by
# the lease-expiry service. Null `expires`: held until released (tag slots of the v1 API).
concurrency_lease = sa.Table(
    "concurrency_lease",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("created", Timestamp(), nullable=False),
    sa.Column("expires", Timestamp()),
    sa.Column("slots", sa.Integer(), nullable=False),
    sa.Column("holder_type", sa.String(20)),  # flow_run, task_run or deployment
    sa.Column("holder_id", sa.Uuid()),
    sa.Index(None, "expires"),
    sa.Index(None, "holder_id"),
)

# Which limits a lease holds slots on.
concurrency_lease_limit = sa.Table(
    "concurrency_lease_limit",
    metadata,
    sa.Column(
        "lease_id",
        sa.Uuid(),
        sa.ForeignKey("concurrency_lease.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "limit_id",
        sa.Uuid(),
        sa.ForeignKey("concurrency_limit.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Index(None, "limit_id"),
)


# --- access control: API keys, UI users, the audit log (migration 0005) ------------------

api_key = sa.Table(
    "api_key",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("created", Timestamp(), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    # The key itself is never stored: only its SHA-256 (keys are long random strings).
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),  # shown in listings
    sa.Column("expires", Timestamp()),
    sa.Column("revoked", Timestamp()),
    sa.Column("last_used", Timestamp()),
)

ui_user = sa.Table(
    "ui_user",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("created", Timestamp(), nullable=False),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),  # bcrypt
    sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("at", Timestamp(), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),  # key or user name, "basic", "anonymous"
    sa.Column("role", sa.String(20)),
    sa.Column("action", sa.String(300), nullable=False),  # "POST /api/flow_runs/{run_id}/set_state"
    sa.Column("object", sa.String(1000), nullable=False),  # the request's path
    sa.Column("status", sa.Integer(), nullable=False),
    sa.Column("source", sa.String(255)),  # the client's address
    sa.Index(None, "at"),
)
