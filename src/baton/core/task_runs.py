"""Task runs: create (upsert on flow run + task key + dynamic key), read, query, states."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow, uuid7
from baton.core import filters as qf
from baton.core.flow_runs import StateResult, proposed_from
from baton.core.runs import (
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
from baton.errors import InvalidInput, NotFound
from baton.orchestration.rules import Run, decide_task_run
from baton.orchestration.states import StateType
from baton.orchestration.timing import advance, initial_timing
from baton.schemas.filters import RunQuery, TaskRunFilterBody
from baton.schemas.states import StateCreate
from baton.schemas.task_runs import TaskRunCreate

TR = t.task_run
NOT_FOUND = "Task run not found"
_UPDATE = update_by_id(TR)

POLICY_DEFAULTS: dict[str, Any] = {
    "max_retries": 0,
    "retry_delay_seconds": 0.0,
    "retries": 0,
    "retry_delay": 0,
    "retry_jitter_factor": None,
}


async def create_task_run(db: Database, body: TaskRunCreate) -> tuple[dict[str, Any], bool]:
    proposed = proposed_from(body.state or StateCreate(type=StateType.PENDING))

    def job(conn: sa.Connection) -> tuple[dict[str, Any], bool]:
        existing = _read(
            conn,
            TR.c.flow_run_id == body.flow_run_id,
            TR.c.task_key == body.task_key,
            TR.c.dynamic_key == body.dynamic_key,
        )
        if existing is not None:
            return existing, False
        labels = dict(body.labels)
        if body.flow_run_id is not None:
            flow_id = conn.scalar(
                sa.select(t.flow_run.c.flow_id).where(t.flow_run.c.id == body.flow_run_id)
            )
            if flow_id is None:
                raise InvalidInput("There is no flow run with this id.", loc="body.flow_run_id")
            labels = {
                **labels,
                "prefect.flow.id": str(flow_id),
                "prefect.flow-run.id": str(body.flow_run_id),
            }
        now = utcnow()
        run_id = body.id or uuid7()
        state = new_state_row(proposed, now, task_run_id=str(run_id))
        timing = initial_timing(proposed.type, state["state_details"], now)
        conn.execute(
            TR.insert().values(
                id=run_id,
                created=now,
                updated=now,
                name=body.name,
                flow_run_id=body.flow_run_id,
                task_key=body.task_key,
                dynamic_key=body.dynamic_key,
                cache_key=body.cache_key,
                cache_expiration=body.cache_expiration,
                task_version=body.task_version,
                empirical_policy={**POLICY_DEFAULTS, **body.empirical_policy},
                tags=body.tags,
                labels=labels,
                task_inputs=body.task_inputs,
                flow_run_run_count=0,
                **current_state_columns(state),
                **timing_columns(timing),
            )
        )
        insert_history(conn, t.task_run_state, "task_run_id", run_id, state, now)
        created = _read(conn, TR.c.id == run_id)
        assert created is not None
        return created, True

    return await db.write(job, quick=True)


async def read_task_run(db: Database, run_id: uuid.UUID) -> dict[str, Any]:
    found = await read_run(db, TR, run_id)
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


async def delete_task_run(db: Database, run_id: uuid.UUID) -> None:
    def job(conn: sa.Connection) -> None:
        if (conn.execute(TR.delete().where(TR.c.id == run_id))).rowcount == 0:
            raise NotFound(NOT_FOUND)

    await db.write(job)


async def filter_task_runs(db: Database, body: TaskRunFilterBody) -> list[dict[str, Any]]:
    limit, offset = body.page
    async with db.read() as conn:
        where = qf.task_run_where(body, conn.dialect.name)
        return await list_runs(conn, TR, where, qf.task_run_order(body.sort), limit, offset)


async def count_task_runs(db: Database, query: RunQuery) -> int:
    async with db.read() as conn:
        where = qf.task_run_where(query, conn.dialect.name)
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(TR).where(*where)) or 0)


async def read_task_run_states(db: Database, run_id: uuid.UUID) -> list[dict[str, Any]]:
    async with db.read() as conn:
        return await read_history(conn, t.task_run_state, "task_run_id", run_id)


async def read_task_run_state(db: Database, state_id: uuid.UUID) -> dict[str, Any]:
    async with db.read() as conn:
        state = await read_history_state(conn, t.task_run_state, state_id)
    if state is None:
        raise NotFound("Task run state not found")
    return state


async def set_task_run_state(
    db: Database, run_id: uuid.UUID, proposal: StateCreate, *, force: bool = False
) -> StateResult:
    proposed = proposed_from(proposal)

    def job(conn: sa.Connection) -> StateResult:
        row = (
            (conn.execute(sa.select(TR).where(TR.c.id == run_id).with_for_update()))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(NOT_FOUND)
        now = utcnow()
        run = Run(
            state_type=state_type_of(row),
            state_name=row["state_name"],
            state_details=row["state_details"] or {},
            state_data=row["state_data"],
            run_count=row["run_count"],
        )
        decision = decide_task_run(run, proposed, now, force=force)
        if decision.state is None:
            return StateResult(decision, state_out(row))
        state = new_state_row(decision.state, now, task_run_id=str(run_id))
        timing = advance(
            timing_of(row), run.state_type, row["state_timestamp"], decision.state.type,
            state["state_details"], now,
        )  # fmt: skip
        insert_history(conn, t.task_run_state, "task_run_id", run_id, state, now)
        values = {**current_state_columns(state), **timing_columns(timing), "updated": now}
        conn.execute(_UPDATE, {"_id": run_id, **values})
        return StateResult(decision, history_state_out(state))

    return await db.write(job, quick=True)


def _read(conn: sa.Connection, *where: sa.ColumnElement[bool]) -> dict[str, Any] | None:
    row = conn.execute(sa.select(TR).where(*where)).mappings().first()
    return None if row is None else run_out(row, utcnow())
