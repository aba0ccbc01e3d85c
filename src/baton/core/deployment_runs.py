"""Runs of deployments: created on demand (`create_flow_run`), created ahead of time from
schedules (the scheduler, `POST /deployments/{id}/schedule`), and handed to runners that
poll a deployment (`get_scheduled_flow_runs`).

Scheduled runs can never be duplicated: each carries the idempotency key
"scheduled <deployment> <schedule> <time>", unique per flow in the database, and is
inserted with ON CONFLICT DO NOTHING; the insert re-checks, under the deployment row's
lock, that the deployment is not paused and the schedule still active.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow
from baton.core import deployments as deps
from baton.core.flow_run_events import state_change_event
from baton.core.flow_runs import (
    insert_run,
    new_run_row,
    proposed_from,
    read_by_idempotency_key,
)
from baton.core.parameters import check_parameters
from baton.core.runs import list_runs, run_out
from baton.core.work_queues import resolve_queue
from baton.db import tables as t
from baton.db.database import Database
from baton.db.dialect import insert
from baton.errors import InvalidInput, NotFound
from baton.events.store import EventBus, insert_server_events
from baton.orchestration.rules import ProposedState
from baton.orchestration.schedules import idempotency_key, parse_schedule, runs_to_schedule
from baton.orchestration.states import StateType
from baton.schemas.deployments import DeploymentFlowRunCreate
from baton.schemas.events import Record
from baton.schemas.states import StateCreate

# A schedule catches up at most this many missed runs (its window bounds them too).
MAX_CATCHUP_RUNS = 1000

D, S, FR = t.deployment, t.deployment_schedule, t.flow_run
WQ, WP = t.work_queue, t.work_pool


def _deployment_query() -> sa.Select[Any]:
    """A deployment with what its runs copy: flow name, queue and pool."""
    return sa.select(
        D,
        t.flow.c.name.label("flow_name"),
        WP.c.id.label("work_pool_id"),
        WP.c.name.label("work_pool_name"),
    ).select_from(
        D.join(t.flow, t.flow.c.id == D.c.flow_id)
        .outerjoin(WQ, WQ.c.id == D.c.work_queue_id)
        .outerjoin(WP, WP.c.id == WQ.c.work_pool_id)
    )


def _run_fields(dep: Any) -> dict[str, Any]:
    """The columns every run of a deployment copies from it."""
    return {
        "flow_id": dep.flow_id,
        "deployment_id": dep.id,
        "deployment_version": dep.version,
        "work_queue_id": dep.work_queue_id,
        "work_queue_name": dep.work_queue_name,
        "work_pool_id": dep.work_pool_id,
        "work_pool_name": dep.work_pool_name,
    }


def _merge_tags(*groups: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(tag for group in groups for tag in group))


# --- on demand -----------------------------------------------------------------------------


async def create_flow_run_from_deployment(
    db: Database, bus: EventBus, deployment_id: uuid.UUID, body: DeploymentFlowRunCreate
) -> tuple[dict[str, Any], bool]:
    """A run of the deployment: its parameters under the ones sent, its queue and pool (or
    the queue named), Scheduled for now unless a state is sent. Returns (run, created)."""
    default = StateCreate(type=StateType.SCHEDULED)
    proposed = proposed_from(body.state or default)

    def job(conn: sa.Connection) -> tuple[dict[str, Any], bool]:
        dep = conn.execute(_deployment_query().where(D.c.id == deployment_id)).first()
        if dep is None:
            raise NotFound(deps.NOT_FOUND)
        existing = read_by_idempotency_key(conn, dep.flow_id, body.idempotency_key)
        if existing is not None:
            return existing, False
        now = utcnow()
        parameters = {**dep.parameters, **body.parameters}
        enforce = dep.enforce_parameter_schema
        if body.enforce_parameter_schema is not None:
            enforce = body.enforce_parameter_schema
        if enforce and dep.parameter_openapi_schema:
            check_parameters(dep.parameter_openapi_schema, parameters)
        fields = _run_fields(dep)
        if body.work_queue_name is not None and dep.work_pool_name is not None:
            queue = resolve_queue(conn, dep.work_pool_name, body.work_queue_name, now)
            fields.update(work_queue_id=queue.queue_id, work_queue_name=queue.queue_name)
        elif body.work_queue_name is not None:
            fields.update(work_queue_id=None, work_queue_name=body.work_queue_name)
        fields.update(
            name=body.name,
            parameters=parameters,
            context=body.context,
            tags=_merge_tags(dep.tags, body.tags),
            labels={
                **(dep.labels or {}),
                **body.labels,
                "prefect.deployment.id": str(dep.id),
            },
            idempotency_key=body.idempotency_key,
            parent_task_run_id=body.parent_task_run_id,
            job_variables=body.job_variables or {},
            empirical_policy=body.empirical_policy,
            infrastructure_document_id=dep.infrastructure_document_id,
        )
        row, state = new_run_row(fields, proposed, now)
        emitted[:] = [insert_run(conn, row, state, dep.flow_name, now)]
        insert_server_events(conn, emitted)
        return run_out(row, now), True

    emitted: list[Record] = []
    result = await db.write(job)
    bus.publish(emitted)
    return result


# --- polled by runners ---------------------------------------------------------------------


async def scheduled_runs_of_deployments(
    db: Database,
    deployment_ids: Sequence[uuid.UUID],
    before: dt.datetime | None,
    limit: int | None,
) -> list[dict[str, Any]]:
    """The deployments' Scheduled runs due by `before`, soonest first; marks the
    deployments as polled (READY)."""
    now = utcnow()

    def job(conn: sa.Connection) -> None:
        if deployment_ids:
            conn.execute(D.update().where(D.c.id.in_(deployment_ids)).values(last_polled=now))

    await db.write(job)
    where = [
        FR.c.deployment_id.in_(deployment_ids),
        FR.c.state_type == StateType.SCHEDULED.value,
        FR.c.next_scheduled_start_time <= (before or now),
    ]
    order = (FR.c.next_scheduled_start_time, FR.c.id)
    async with db.read() as conn:
        return await list_runs(conn, FR, where, order, limit)


# --- ahead of time, from schedules ----------------------------------------------------------


@dataclass(frozen=True)
class Horizon:
    """How far ahead schedules are turned into runs: at least `min_runs` runs or `min_time`
    ahead, at most `max_runs` runs or `max_time` ahead (per schedule)."""

    min_runs: int = 3
    max_runs: int = 100
    min_time: dt.timedelta = dt.timedelta(hours=1)
    max_time: dt.timedelta = dt.timedelta(days=100)


@dataclass(frozen=True)
class PlannedRun:
    schedule_id: uuid.UUID
    when: dt.datetime
    key: str
    parameters: dict[str, Any]
    display_value: str


def window_horizon(
    start: dt.datetime,
    end: dt.datetime | None,
    min_runs: int | None,
    max_runs: int | None,
    min_time: dt.timedelta | None,
) -> Horizon:
    """The horizon of `POST /deployments/{id}/schedule`: with an end, every run of the
    window (up to `max_runs`, default 1000: a backfill); without, the scheduler's usual
    horizon from `start`, adjusted by what was sent."""
    default = Horizon()
    if end is not None:
        if end <= start:
            raise InvalidInput("end_time must be after start_time", loc="body.end_time")
        return Horizon(
            min_runs=min_runs or 0,
            max_runs=1000 if max_runs is None else max_runs,
            min_time=end - start,
            max_time=end - start,
        )
    return Horizon(
        min_runs=default.min_runs if min_runs is None else min_runs,
        max_runs=default.max_runs if max_runs is None else max_runs,
        min_time=default.min_time if min_time is None else min_time,
        max_time=default.max_time,
    )


def plan_runs(
    deployment_id: uuid.UUID,
    schedules: Iterable[Any],
    start: dt.datetime,
    horizon: Horizon,
) -> list[PlannedRun]:
    """The runs the deployment's active schedules call for from `start` (pure)."""
    planned = []
    for row in schedules:
        if not row.active:
            continue
        schedule = parse_schedule(row.schedule)
        missed: list[dt.datetime] = []
        if row.catchup_window:
            # Catch-up: what the schedule called for in its window before `start`, but not
            # before the schedule was last changed (or its deployment resumed).
            since = max(start - dt.timedelta(seconds=row.catchup_window), row.updated)
            missed = [
                when for when in schedule.next_times(since, start, MAX_CATCHUP_RUNS) if when < start
            ]
        ahead = runs_to_schedule(
            schedule,
            start,
            min_runs=horizon.min_runs,
            max_runs=horizon.max_runs,
            min_time=horizon.min_time,
            max_time=horizon.max_time,
            max_scheduled_runs=row.max_scheduled_runs,
        )
        for when in [*missed, *ahead]:
            planned.append(
                PlannedRun(
                    row.id,
                    when,
                    idempotency_key(deployment_id, row.id, when),
                    row.parameters or {},
                    schedule.kind,
                )
            )
    return planned


def _existing_keys(conn: sa.Connection, flow_id: uuid.UUID, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        found.update(
            conn.scalars(
                sa.select(FR.c.idempotency_key).where(
                    FR.c.flow_id == flow_id, FR.c.idempotency_key.in_(chunk)
                )
            )
        )
    return found


def _scheduled_state(when: dt.datetime) -> ProposedState:
    return ProposedState(
        StateType.SCHEDULED,
        "Scheduled",
        "Flow run scheduled",
        {"scheduled_time": when.isoformat()},
    )


def insert_planned_runs(
    conn: sa.Connection,
    deployment_id: uuid.UUID,
    start: dt.datetime,
    horizon: Horizon,
    now: dt.datetime,
) -> list[Record]:
    """Insert the runs the deployment's schedules call for that do not exist yet; returns
    their state events (stored here, to publish after commit). Runs in a write job."""
    # Lock the deployment row (FOR SHARE): a pause or a schedule change that updates it waits
    # for this insert, and one that came first is seen here.
    dep = conn.execute(
        _deployment_query().where(D.c.id == deployment_id).with_for_update(read=True, of=D)
    ).first()
    if dep is None or dep.paused:
        return []
    schedules = conn.execute(sa.select(S).where(S.c.deployment_id == deployment_id)).all()
    planned = plan_runs(deployment_id, schedules, start, horizon)
    existing = _existing_keys(conn, dep.flow_id, [p.key for p in planned])
    missing = [p for p in planned if p.key not in existing]
    if not missing:
        return []
    base = _run_fields(dep)
    rows, states = [], {}
    for p in missing:
        fields = {
            **base,
            "parameters": {**dep.parameters, **p.parameters},
            "tags": _merge_tags(["auto-scheduled"], dep.tags),
            "labels": {**(dep.labels or {}), "prefect.deployment.id": str(dep.id)},
            "idempotency_key": p.key,
            "auto_scheduled": True,
            "created_by": {
                "id": str(p.schedule_id),
                "type": "SCHEDULE",
                "display_value": p.display_value,
            },
            "job_variables": {},
            "infrastructure_document_id": dep.infrastructure_document_id,
        }
        row, state = new_run_row(fields, _scheduled_state(p.when), now)
        rows.append(row)
        states[row["id"]] = (row, state)
    inserted = set(
        conn.scalars(
            insert(conn, FR)
            .on_conflict_do_nothing(index_elements=["flow_id", "idempotency_key"])
            .returning(FR.c.id),
            rows,
        )
    )
    history = [{"created": now, "flow_run_id": run_id, **states[run_id][1]} for run_id in inserted]
    if history:
        conn.execute(t.flow_run_state.insert(), history)
    events = [
        state_change_event(states[run_id][0], dep.flow_name, None, states[run_id][1])
        for run_id in inserted
    ]
    insert_server_events(conn, events)
    return events


async def deployments_needing_runs(
    db: Database, horizon: Horizon, now: dt.datetime, only: Sequence[uuid.UUID] | None = None
) -> list[uuid.UUID]:
    """Unpaused deployments whose active schedules call for runs that do not exist yet:
    found with two reads however many deployments there are, so a scheduler pass with
    nothing to do writes nothing and stays cheap."""
    query = (
        sa.select(S, D.c.flow_id)
        .join(D, D.c.id == S.c.deployment_id)
        .where(S.c.active.is_(True), D.c.paused.is_(False))
    )
    if only is not None:
        query = query.where(D.c.id.in_(only))
    async with db.read() as conn:
        rows = (await conn.execute(query)).all()
        by_deployment: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for row in rows:
            by_deployment[row.deployment_id].append(row)
        plans = {d: plan_runs(d, schedules, now, horizon) for d, schedules in by_deployment.items()}
        earliest = min((p.when for plan in plans.values() for p in plan), default=None)
        if earliest is None:
            return []
        # Every auto-scheduled run from the earliest planned time on: what already exists.
        existing = set(
            await conn.scalars(
                sa.select(FR.c.idempotency_key).where(
                    FR.c.auto_scheduled.is_(True), FR.c.expected_start_time >= earliest
                )
            )
        )
    return [d for d, plan in plans.items() if any(p.key not in existing for p in plan)]


async def schedule_runs(
    db: Database,
    bus: EventBus,
    deployment_ids: Sequence[uuid.UUID],
    horizon: Horizon,
    start: dt.datetime | None = None,
) -> int:
    """Create the deployments' missing scheduled runs from `start` (default now), in one
    transaction; returns how many were created."""

    def job(conn: sa.Connection) -> list[Record]:
        now = utcnow()
        events: list[Record] = []
        for deployment_id in deployment_ids:
            events += insert_planned_runs(conn, deployment_id, start or now, horizon, now)
        return events

    events = await db.write(job)
    bus.publish(events)
    return len(events)
