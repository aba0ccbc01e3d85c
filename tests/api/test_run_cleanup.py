"""The cleanup services: stuck cancellations, orphans of cancelled runs, zombie runs.
Each step is called directly with a clock moved forward (no sleeping)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from baton.clock import utcnow
from baton.core.run_cleanup import cancel_orphans, crash_zombies, finish_stuck_cancellations
from baton.db import tables as t
from baton.events.store import insert_events, new_event
from tests.api.test_claims import deploy, due_runs, poll
from tests.api.test_deployments import add_pool
from tests.api.test_flow_runs import make_flow, make_run, set_state

LATER = dt.timedelta(minutes=10)


async def state_of(client: httpx.AsyncClient, run_id: str, kind: str = "flow_runs") -> str:
    run: dict[str, Any] = (await client.get(f"/api/{kind}/{run_id}")).json()
    return f"{run['state_type']}/{run['state_name']}"


async def running(client: httpx.AsyncClient, flow_id: str) -> str:
    run = await make_run(client, flow_id)
    await set_state(client, run["id"], "RUNNING")
    run_id: str = run["id"]
    return run_id


async def test_stuck_cancellations_end_cancelled(client: httpx.AsyncClient, app: FastAPI) -> None:
    db, bus = app.state.db, app.state.events.bus
    flow_id = await make_flow(client)
    stuck = await running(client, flow_id)
    await set_state(client, stuck, "CANCELLING")
    timeout = dt.timedelta(minutes=5)
    assert await finish_stuck_cancellations(db, bus, timeout) == 0  # not stuck yet
    assert await finish_stuck_cancellations(db, bus, timeout, now=utcnow() + LATER) == 1
    assert await state_of(client, stuck) == "CANCELLED/Cancelled"
    assert await finish_stuck_cancellations(db, bus, timeout, now=utcnow() + LATER) == 0


async def test_orphans_of_a_cancelled_run_are_cancelled(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    db, bus = app.state.db, app.state.events.bus
    flow_id = await make_flow(client)
    parent = await running(client, flow_id)
    placeholder = await client.post(
        "/api/task_runs/",
        json={
            "name": "child-flow",
            "flow_run_id": parent,
            "task_key": "child",
            "dynamic_key": "0",
            "state": {"type": "RUNNING"},
        },
    )
    assert placeholder.status_code == 201, placeholder.text
    child = await make_run(client, flow_id, parent_task_run_id=placeholder.json()["id"])
    await set_state(client, child["id"], "RUNNING")
    finished = await make_run(client, flow_id, parent_task_run_id=placeholder.json()["id"])
    await set_state(client, finished["id"], "COMPLETED")

    assert await cancel_orphans(db, bus) == 0  # the parent is still running
    await set_state(client, parent, "CANCELLING")
    await set_state(client, parent, "CANCELLED")
    assert await cancel_orphans(db, bus) >= 1
    assert await state_of(client, child["id"]) == "CANCELLED/Cancelled"
    assert await state_of(client, finished["id"]) == "COMPLETED/Completed"  # left alone
    task = await state_of(client, placeholder.json()["id"], "task_runs")
    assert task == "CANCELLED/Cancelled"
    assert await cancel_orphans(db, bus) == 0


async def test_zombies_crash_when_their_worker_goes_silent(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    db, bus = app.state.db, app.state.events.bus
    pool_id, _ = await add_pool(db)
    dep = await deploy(client)
    await due_runs(client, dep["id"], 2)
    claimed = [item["flow_run"]["id"] for item in await poll(client)]
    workers = {claimed[0]: "silent-worker", claimed[1]: "busy-worker"}
    for run_id, worker in workers.items():
        labels = {"prefect.worker.name": worker, "prefect.work-pool.id": str(pool_id)}
        await client.patch(f"/api/flow_runs/{run_id}/labels", json=labels)
        for state in ("PENDING", "RUNNING"):
            await set_state(client, run_id, state)

    def heartbeats(conn: sa.Connection) -> None:
        now = utcnow()
        for name, beat in (
            ("silent-worker", now - dt.timedelta(hours=1)),
            ("busy-worker", now + LATER),
        ):
            conn.execute(
                t.worker.insert().values(
                    id=uuid.uuid4(), created=now, updated=now, work_pool_id=pool_id,
                    name=name, last_heartbeat_time=beat, heartbeat_interval_seconds=30,
                )
            )  # fmt: skip

    await db.write(heartbeats)
    silence = dt.timedelta(minutes=2)
    assert await crash_zombies(db, bus, silence) == 0  # both started just now
    assert await crash_zombies(db, bus, silence, now=utcnow() + LATER) == 1
    assert await state_of(client, claimed[0]) == "CRASHED/Crashed"
    assert await state_of(client, claimed[1]) == "RUNNING/Running"
    crashed = (await client.get(f"/api/flow_runs/{claimed[0]}")).json()
    assert "silent-worker" in crashed["state"]["message"]


async def test_zombies_crash_when_their_heartbeat_events_stop(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    db, bus = app.state.db, app.state.events.bus
    flow_id = await make_flow(client)
    quiet, lively, no_beats = [await running(client, flow_id) for _ in range(3)]

    def beat(run_id: str, at: dt.datetime) -> Any:
        resource = {"prefect.resource.id": f"prefect.flow-run.{run_id}"}
        return new_event("prefect.flow-run.heartbeat", resource, [], {}, occurred=at)

    def store(conn: sa.Connection) -> None:
        now = utcnow()
        insert_events(conn, [beat(quiet, now), beat(lively, now + LATER)])

    await db.write(store)
    silence = dt.timedelta(minutes=2)
    assert await crash_zombies(db, bus, silence, now=utcnow() + LATER) == 1
    assert await state_of(client, quiet) == "CRASHED/Crashed"
    assert await state_of(client, lively) == "RUNNING/Running"
    assert await state_of(client, no_beats) == "RUNNING/Running"  # nothing says it is gone


async def test_a_run_is_a_zombie_only_after_missing_three_of_its_own_heartbeats(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Prefect 3.9.1 sends a heartbeat as a run starts, then every 180 s by default: a run
    three minutes into its work is alive, not a zombie of a 2-minute silence."""
    db, bus = app.state.db, app.state.events.bus
    flow_id = await make_flow(client)
    started, fast_stopped, fast_alive, slow = [await running(client, flow_id) for _ in range(4)]
    start = utcnow()

    def beat(run_id: str, at: dt.datetime) -> Any:
        resource = {"prefect.resource.id": f"prefect.flow-run.{run_id}"}
        return new_event("prefect.flow-run.heartbeat", resource, [], {}, occurred=at)

    def store(conn: sa.Connection) -> None:
        every = dt.timedelta(seconds=30)
        insert_events(
            conn,
            [
                beat(started, start),  # only the beat at its start, so far
                *(beat(fast_stopped, start + i * every) for i in range(3)),  # stopped at 1 min
                *(beat(fast_alive, start + i * every) for i in range(7)),  # up to 3 min
                beat(slow, start),
                beat(slow, start + dt.timedelta(seconds=180)),
            ],
        )

    await db.write(store)
    silence = dt.timedelta(minutes=2)
    at = start + dt.timedelta(minutes=3, seconds=10)
    assert await crash_zombies(db, bus, silence, now=at) == 1
    assert await state_of(client, fast_stopped) == "CRASHED/Crashed"  # 130 s > 3 x 30 s and > 120 s
    for alive in (started, fast_alive, slow):
        assert await state_of(client, alive) == "RUNNING/Running"
    crashed = (await client.get(f"/api/flow_runs/{fast_stopped}")).json()
    assert "no heartbeat for over 120 s" in crashed["state"]["message"]
    # Three missed beats of the default interval later, the silent ones are zombies.
    assert await crash_zombies(db, bus, silence, now=start + dt.timedelta(minutes=13)) == 3
