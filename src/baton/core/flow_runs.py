"""Flow runs: create, read, update, delete, query, and state changes through the rules."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow, uuid7
from baton.core import filters as qf
from baton.core.flow_run_events import state_change_event
from baton.core.names import generate_name
from baton.core.runs import (
    TIMING_COLUMNS,
    current_state_columns,
    history_state_out,
    insert_history,
    list_runs,
    new_state_row,
    read_history,
    read_history_state,
    read_run,
    run_out,
    state_out,
    state_type_of,
    timing_columns,
    timing_of,
    update_by_id,
)
from baton.db import tables as t
from baton.db.database import Database
from baton.db.statements import Statement
from baton.errors import InvalidInput, NotFound
from baton.events.store import EventBus, insert_server_events
from baton.orchestration.rules import (
    Decision,
    DeploymentLimit,
    ProposedState,
    Run,
    Status,
    decide_flow_run,
    enforce_deployment_limit,
    starts_run,
)
from baton.orchestration.states import DEFAULT_NAMES, StateType
from baton.orchestration.timing import advance, initial_timing
from baton.schemas.events import Record
from baton.schemas.filters import FlowRunFilterBody, RunQuery
from baton.schemas.flow_runs import FlowRunCreate, FlowRunUpdate
from baton.schemas.states import StateCreate, StateDetails

FR = t.flow_run
NOT_FOUND = "Flow run not found"
_UPDATE_RUN = Statement(update_by_id(FR))
# Statements built once: values go in as parameters, so SQLAlchemy neither rebuilds them
# nor works out their cache key from forty values on every call.
_INSERT_RUN = Statement(FR.insert())
# What a state change reads of its run: the rules' inputs, the timing, what its event
# names. Not parameters, context or job variables: decoding every JSON column of the row
# was 15% of a state change's job in the writer (py-spy).
_STATE_CHANGE_READS = (
    *("id", "name", "flow_id", "deployment_id", "parent_task_run_id", "tags"),
    *("work_queue_id", "work_queue_name", "work_pool_id", "work_pool_name"),
    *("state_id", "state_type", "state_name", "state_timestamp", "state_message"),
    *("state_details", "state_data", "empirical_policy", *TIMING_COLUMNS),
)
# FOR UPDATE: two proposals for one run must be decided one after the other.
_RUN_FOR_STATE = (
    sa.select(*(FR.c[name] for name in _STATE_CHANGE_READS), t.flow.c.name.label("flow_name"))
    .join(t.flow, t.flow.c.id == FR.c.flow_id)
    .where(FR.c.id == sa.bindparam("run_id"))
    .with_for_update(of=FR)
)
_UPDATE_TASK_RUN = update_by_id(t.task_run)
# A new run's columns that the insert does not set, with their defaults.
_NEW_RUN_DEFAULTS: dict[str, Any] = {c.name: None for c in FR.columns}

_POLICY_DEFAULTS: dict[str, Any] = {
    "max_retries": 0,
    "retry_delay_seconds": 0.0,
    "retries": None,
    "retry_delay": None,
    "pause_keys": [],
    "resuming": False,
    "retry_type": None,
}


def proposed_from(state: StateCreate) -> ProposedState:
    return ProposedState(
        type=state.type,
        name=state.name or DEFAULT_NAMES[state.type],
        message=state.message,
        details=state.details_json(),
        data=state.data,
    )


def new_run_row(
    fields: dict[str, Any], proposed: ProposedState, now: dt.datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new flow-run row (every column) and its first state row, from the given columns:
    the id, name, policy and labels get their defaults, the state its derived timing."""
    run_id = fields.get("id") or uuid7()
    state = new_state_row(proposed, now, flow_run_id=str(run_id))
    timing = initial_timing(proposed.type, state["state_details"], now)
    row = {
        **_NEW_RUN_DEFAULTS,
        "parameters": {},
        "context": {},
        "tags": [],
        "auto_scheduled": False,
        **fields,
        "id": run_id,
        "created": now,
        "updated": now,
        "name": fields.get("name") or generate_name(),
        "empirical_policy": {**_POLICY_DEFAULTS, **(fields.get("empirical_policy") or {})},
        "labels": {**(fields.get("labels") or {}), "prefect.flow.id": str(fields["flow_id"])},
        **current_state_columns(state),
        **timing_columns(timing),
    }
    return row, state


def insert_run(
    conn: sa.Connection,
    row: dict[str, Any],
    state: dict[str, Any],
    flow_name: str | None,
    now: dt.datetime,
) -> Record:
    """Write a run built by `new_run_row` with its first state; returns its state event,
    for the caller to store and publish."""
    _INSERT_RUN.run(conn, row)
    insert_history(conn, t.flow_run_state, "flow_run_id", row["id"], state, now)
    if row["parent_task_run_id"] is not None:
        mirror_onto_parent_task(conn, row["parent_task_run_id"], row["id"], state, now)
    return state_change_event(row, flow_name, None, state)


def read_by_idempotency_key(
    conn: sa.Connection, flow_id: uuid.UUID, key: str | None
) -> dict[str, Any] | None:
    if key is None:
        return None
    return _read(conn, FR.c.flow_id == flow_id, FR.c.idempotency_key == key)


async def create_flow_run(
    db: Database, bus: EventBus, body: FlowRunCreate
) -> tuple[dict[str, Any], bool]:
    """Create a run of `body.flow_id`; with an idempotency key already used for that flow,
    return the existing run instead. Returns (run, created)."""
    proposed = proposed_from(body.state or StateCreate(type=StateType.PENDING))
    fields = body.model_dump(exclude={"state"})

    def job(conn: sa.Connection) -> tuple[dict[str, Any], bool]:
        existing = read_by_idempotency_key(conn, body.flow_id, body.idempotency_key)
        if existing is not None:
            return existing, False
        flow_name = conn.scalar(sa.select(t.flow.c.name).where(t.flow.c.id == body.flow_id))
        if flow_name is None:
            raise InvalidInput("There is no flow with this id.", loc="body.flow_id")
        now = utcnow()
        row, state = new_run_row(fields, proposed, now)
        emitted[:] = [insert_run(conn, row, state, flow_name, now)]
        insert_server_events(conn, emitted)
        return run_out(row, now), True

    emitted: list[Record] = []
    result = await db.write(job, quick=True)
    bus.publish(emitted)
    return result


async def read_flow_run(db: Database, run_id: uuid.UUID) -> dict[str, Any]:
    found = await read_run(db, FR, run_id)
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


async def update_flow_run(db: Database, run_id: uuid.UUID, body: FlowRunUpdate) -> None:
    # An explicit null clears the fields that may be empty and is ignored for the rest.
    changes = {
        k: v
        for k, v in body.model_dump(exclude_unset=True).items()
        if v is not None or k in ("flow_version", "infrastructure_pid", "job_variables")
    }
    if "empirical_policy" in changes and changes["empirical_policy"] is not None:
        changes["empirical_policy"] = {**_POLICY_DEFAULTS, **changes["empirical_policy"]}

    def job(conn: sa.Connection) -> None:
        result = conn.execute(
            FR.update().where(FR.c.id == run_id).values(**changes, updated=utcnow())
        )  # an empty PATCH still answers 404 for an unknown run
        if result.rowcount == 0:
            raise NotFound(NOT_FOUND)

    await db.write(job)


async def update_labels(db: Database, run_id: uuid.UUID, labels: dict[str, Any]) -> None:
    """Merge `labels` into the run's labels."""

    def job(conn: sa.Connection) -> None:
        current = conn.execute(sa.select(FR.c.labels).where(FR.c.id == run_id).with_for_update())
        row = current.first()
        if row is None:
            raise NotFound(NOT_FOUND)
        merged = {**(row.labels or {}), **labels}
        conn.execute(FR.update().where(FR.c.id == run_id).values(labels=merged, updated=utcnow()))

    await db.write(job)


async def delete_flow_run(db: Database, run_id: uuid.UUID) -> None:
    def job(conn: sa.Connection) -> None:
        result = conn.execute(FR.delete().where(FR.c.id == run_id))
        if result.rowcount == 0:
            raise NotFound(NOT_FOUND)

    await db.write(job)


async def filter_flow_runs(db: Database, body: FlowRunFilterBody) -> list[dict[str, Any]]:
    limit, offset = body.page
    async with db.read() as conn:
        where = qf.flow_run_where(body, conn.dialect.name)
        return await list_runs(conn, FR, where, qf.flow_run_order(body.sort), limit, offset)


async def count_flow_runs(db: Database, query: RunQuery) -> int:
    async with db.read() as conn:
        where = qf.flow_run_where(query, conn.dialect.name)
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(FR).where(*where)) or 0)


async def read_flow_run_states(db: Database, run_id: uuid.UUID) -> list[dict[str, Any]]:
    async with db.read() as conn:
        return await read_history(conn, t.flow_run_state, "flow_run_id", run_id)


async def read_flow_run_state(db: Database, state_id: uuid.UUID) -> dict[str, Any]:
    async with db.read() as conn:
        state = await read_history_state(conn, t.flow_run_state, state_id)
    if state is None:
        raise NotFound("Flow run state not found")
    return state


@dataclass(frozen=True)
class StateResult:
    decision: Decision
    state: dict[str, Any] | None  # the run's state after the call


async def set_flow_run_state(
    db: Database,
    bus: EventBus,
    run_id: uuid.UUID,
    proposal: StateCreate,
    *,
    force: bool = False,
    only_from: tuple[str, str] | None = None,
) -> StateResult:
    """Propose a state; the rules decide; an accepted (or substituted) state is written with
    the run's derived fields and its `prefect.flow-run.<Name>` event in one transaction; the
    event is published once that commits. Services pass `only_from` (type, name): the
    proposal is dropped (ABORT) if the run has moved on from that state meanwhile."""
    proposed = proposed_from(proposal)

    def job(conn: sa.Connection) -> StateResult:
        row = conn.execute(_RUN_FOR_STATE, {"run_id": run_id}).mappings().first()
        if row is None:
            raise NotFound(NOT_FOUND)
        if only_from is not None and (row["state_type"], row["state_name"]) != only_from:
            moved = Decision(Status.ABORT, None, "The run has left the expected state.")
            return StateResult(moved, state_out(row))
        now = utcnow()
        policy = row["empirical_policy"] or {}
        run = Run(
            state_type=state_type_of(row),
            state_name=row["state_name"],
            state_details=row["state_details"] or {},
            state_data=row["state_data"],
            run_count=row["run_count"],
            retries=int(policy.get("retries") or 0),
            retry_delay=float(policy.get("retry_delay") or 0),
        )
        decision = decide_flow_run(run, proposed, now, force=force)
        if not force and row["deployment_id"] is not None and starts_run(run, decision):
            limit = _deployment_limit(conn, row["deployment_id"], run_id)
            decision = enforce_deployment_limit(run, decision, limit, now)
        if decision.state is None:
            return StateResult(decision, state_out(row))
        state = new_state_row(decision.state, now, flow_run_id=str(run_id))
        timing = advance(
            timing_of(row),
            run.state_type,
            row["state_timestamp"],
            decision.state.type,
            state["state_details"],
            now,
        )
        values: dict[str, Any] = {
            **current_state_columns(state),
            **timing_columns(timing),
            "updated": now,
        }
        if decision.policy_updates:
            values["empirical_policy"] = {**policy, **decision.policy_updates}
        insert_history(conn, t.flow_run_state, "flow_run_id", run_id, state, now)
        _UPDATE_RUN.run(conn, {"_id": run_id, **values})
        if row["parent_task_run_id"] is not None:
            mirror_onto_parent_task(conn, row["parent_task_run_id"], run_id, state, now)
        emitted.append(state_change_event(row, row["flow_name"], state_out(row), state))
        insert_server_events(conn, emitted)
        return StateResult(decision, history_state_out(state))

    emitted: list[Record] = []
    result = await db.write(job, quick=True)
    bus.publish(emitted)
    return result


_HOLDING_SLOTS = (StateType.PENDING.value, StateType.RUNNING.value, StateType.CANCELLING.value)


def _deployment_limit(
    conn: sa.Connection, deployment_id: uuid.UUID, run_id: uuid.UUID
) -> DeploymentLimit | None:
    """The deployment's concurrency limit and the slots its other runs hold (None when it
    has no limit). The deployment row is locked so two runs cannot take the last slot."""
    dep = t.deployment
    found = conn.execute(
        sa.select(dep.c.concurrency_limit, dep.c.concurrency_options)
        .where(dep.c.id == deployment_id)
        .with_for_update()
    ).first()
    if found is None or found.concurrency_limit is None:
        return None
    busy = conn.scalar(
        sa.select(sa.func.count()).where(
            FR.c.deployment_id == deployment_id,
            FR.c.id != run_id,
            FR.c.state_type.in_(_HOLDING_SLOTS),
        )
    )
    strategy = (found.concurrency_options or {}).get("collision_strategy") or "ENQUEUE"
    return DeploymentLimit(found.concurrency_limit, int(busy or 0), str(strategy))


def mirror_onto_parent_task(
    conn: sa.Connection,
    task_run_id: uuid.UUID,
    child_id: uuid.UUID,
    child_state: dict[str, Any],
    now: dt.datetime,
) -> None:
    """A subflow's placeholder task run follows the child flow run's states."""
    tr = t.task_run
    row = (
        (conn.execute(sa.select(tr).where(tr.c.id == task_run_id).with_for_update()))
        .mappings()
        .first()
    )
    if row is None:  # the placeholder is recorded later (or never): nothing to mirror onto
        return
    details = dict(child_state["state_details"])
    details.update(task_run_id=str(task_run_id), flow_run_id=None, child_flow_run_id=str(child_id))
    state = {**child_state, "id": uuid7(), "state_details": details}
    kind = StateType(state["type"])
    timing = advance(timing_of(row), state_type_of(row), row["state_timestamp"], kind, details, now)
    insert_history(conn, t.task_run_state, "task_run_id", task_run_id, state, now)
    conn.execute(
        _UPDATE_TASK_RUN,
        {
            "_id": task_run_id,
            **current_state_columns(state),
            **timing_columns(timing),
            "updated": now,
        },
    )


def _read(conn: sa.Connection, *where: sa.ColumnElement[bool]) -> dict[str, Any] | None:
    row = conn.execute(sa.select(FR).where(*where)).mappings().first()
    return None if row is None else run_out(row, utcnow())


async def mark_late_runs(
    db: Database, bus: EventBus, late_after: dt.timedelta, limit: int = 100
) -> int:
    """Scheduled runs past their start by more than `late_after` become Scheduled/"Late"
    (their scheduled time kept); returns how many."""
    cutoff = utcnow() - late_after
    async with db.read() as conn:
        due = (
            await conn.execute(
                sa.select(FR.c.id, FR.c.state_details)
                .where(
                    FR.c.state_type == StateType.SCHEDULED.value,
                    FR.c.state_name == "Scheduled",
                    FR.c.next_scheduled_start_time <= cutoff,
                )
                .order_by(FR.c.next_scheduled_start_time)
                .limit(limit)
            )
        ).all()
    marked = 0
    for run_id, details in due:
        late = StateCreate(
            type=StateType.SCHEDULED,
            name="Late",
            state_details=StateDetails.model_validate(
                {"scheduled_time": (details or {}).get("scheduled_time")}
            ),
        )
        result = await set_flow_run_state(
            db, bus, run_id, late, only_from=(StateType.SCHEDULED.value, "Scheduled")
        )
        marked += result.decision.written
    return marked
