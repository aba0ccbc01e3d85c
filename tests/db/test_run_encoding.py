"""Runs listed from raw rows (`wire_runs`) give exactly the JSON of the reference encoding
(`run_out` of SQLAlchemy's typed rows), on both dialects."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import orjson
import sqlalchemy as sa
from fastapi import FastAPI

from baton.api.responses import dumps
from baton.core.runs import run_out, wire_runs
from baton.db import tables as t
from baton.db.raw import raw_select
from tests.api.test_flow_runs import make_flow, make_run, set_state


async def _both(app: FastAPI, table: sa.Table) -> tuple[Any, Any]:
    now = dt.datetime.now(dt.UTC)
    async with app.state.db.read() as conn:
        typed = (await conn.execute(sa.select(table).order_by(table.c.id))).mappings().all()
        raw = (await conn.execute(raw_select(table).order_by(table.c.id))).all()
        dialect = conn.dialect.name
    slow = [run_out(row, now) for row in typed]
    fast = wire_runs(raw, table, dialect, now)
    return orjson.loads(dumps(slow)), orjson.loads(dumps(fast))


async def test_fast_encoding_matches(client: httpx.AsyncClient, app: FastAPI) -> None:
    flow_id = await make_flow(client)
    plain = await make_run(client, flow_id, tags=["a", "b"], labels={"team": "x", "n": 3})
    done = await make_run(client, flow_id)
    await set_state(client, done["id"], "RUNNING")
    await set_state(client, done["id"], "COMPLETED", data={"storage_key": "k"}, message="ok")
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat()
    await make_run(
        client, flow_id, state={"type": "SCHEDULED", "state_details": {"scheduled_time": later}}
    )
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    await make_run(  # late: its delta grows
        client, flow_id, state={"type": "SCHEDULED", "state_details": {"scheduled_time": past}}
    )
    running = await make_run(client, flow_id, empirical_policy={"retries": 2})
    await set_state(client, running["id"], "RUNNING", data=7)
    task = await client.post(
        "/api/task_runs/",
        json={"name": "t-1", "flow_run_id": plain["id"], "task_key": "t", "dynamic_key": "1"},
    )
    assert task.status_code == 201

    slow, fast = await _both(app, t.flow_run)
    assert len(slow) == 5
    assert any(run["estimated_start_time_delta"] > 200 for run in slow)
    assert fast == slow
    slow_tasks, fast_tasks = await _both(app, t.task_run)
    assert len(slow_tasks) == 1
    assert fast_tasks == slow_tasks
