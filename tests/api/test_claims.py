"""Workers polling their pool (`POST /work_pools/{name}/get_scheduled_flow_runs`): due runs
by queue priority, within concurrency limits, each handed to exactly one worker."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from baton.clock import utcnow
from baton.db import tables as t
from baton.db.database import Database
from tests.api.test_deployments import add_pool, interval, new_flow, served_body
from tests.api.test_error_shape import assert_error

SOON = 10  # the worker asks for runs due within the next 10 s


def poll_body(**extra: Any) -> dict[str, Any]:
    """What `prefect worker start` sends (S4): a space, not a T, in scheduled_before."""
    before = str(utcnow() + dt.timedelta(seconds=SOON))
    return {"work_queue_names": [], "scheduled_before": before, **extra}


async def deploy(client: httpx.AsyncClient, name: str = "d", **extra: Any) -> dict[str, Any]:
    flow_id = await new_flow(client, f"flow-{name}")
    body = served_body(flow_id, name=name, schedules=[], work_pool_name="p1", **extra)
    response = await client.post("/api/deployments/", json=body)
    assert response.status_code == 201, response.text
    deployment: dict[str, Any] = response.json()
    return deployment


async def due_runs(client: httpx.AsyncClient, deployment_id: str, count: int) -> None:
    """`count` runs due already, one a minute: a backfill of the last `count` minutes."""
    url = f"/api/deployments/{deployment_id}/schedule"
    await client.patch(f"/api/deployments/{deployment_id}", json={"schedules": [interval(60.0)]})
    end = utcnow().replace(second=0, microsecond=0)
    start = end - dt.timedelta(minutes=count)
    window = {
        "start_time": (start + dt.timedelta(seconds=1)).isoformat(),
        "end_time": end.isoformat(),
    }
    response = await client.post(url, json=window)
    assert response.json() == {"created": count}, response.text


async def poll(client: httpx.AsyncClient, pool: str = "p1", **extra: Any) -> list[dict[str, Any]]:
    response = await client.post(
        f"/api/work_pools/{pool}/get_scheduled_flow_runs", json=poll_body(**extra)
    )
    assert response.status_code == 200, response.text
    claimed: list[dict[str, Any]] = response.json()
    return claimed


async def add_queue(
    db: Database, pool_id: uuid.UUID, name: str, priority: int, **extra: Any
) -> uuid.UUID:
    queue_id = uuid.uuid4()

    def job(conn: sa.Connection) -> None:
        now = utcnow()
        conn.execute(
            t.work_queue.insert().values(
                id=queue_id,
                created=now,
                updated=now,
                work_pool_id=pool_id,
                name=name,
                priority=priority,
                **extra,
            )
        )

    await db.write(job)
    return queue_id


async def test_four_pollers_claim_every_run_exactly_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await add_pool(app.state.db)
    dep = await deploy(client)
    await due_runs(client, dep["id"], 500)

    async def worker() -> list[str]:
        mine: list[str] = []
        while batch := await poll(client, limit=7):
            mine += [item["flow_run"]["id"] for item in batch]
        return mine

    claimed = await asyncio.gather(*(worker() for _ in range(4)))
    every = [run_id for mine in claimed for run_id in mine]
    assert len(every) == 500
    assert len(set(every)) == 500


async def test_claims_are_shaped_for_the_worker_and_ordered(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    pool_id, default_queue = await add_pool(app.state.db)
    urgent = await add_queue(app.state.db, pool_id, "urgent", 0)
    normal = await deploy(client, "normal")
    first = await deploy(client, "first", work_queue_name="urgent")
    await due_runs(client, normal["id"], 3)
    await due_runs(client, first["id"], 2)
    future = await client.post(
        f"/api/deployments/{normal['id']}/create_flow_run",
        json={
            "state": {
                "type": "SCHEDULED",
                "state_details": {"scheduled_time": (utcnow() + dt.timedelta(hours=1)).isoformat()},
            }
        },
    )
    assert future.status_code == 201

    claimed = await poll(client)
    assert [set(item) for item in claimed] == [{"work_pool_id", "work_queue_id", "flow_run"}] * 5
    assert [item["work_queue_id"] for item in claimed] == [str(urgent)] * 2 + [
        str(default_queue)
    ] * 3
    assert all(item["work_pool_id"] == str(pool_id) for item in claimed)
    starts = [item["flow_run"]["next_scheduled_start_time"] for item in claimed[2:]]
    assert starts == sorted(starts)
    assert future.json()["id"] not in {item["flow_run"]["id"] for item in claimed}
    assert "claimed_until" not in claimed[0]["flow_run"]
    assert await poll(client) == []  # all claimed

    # Only the named queues, when named.
    assert await poll(client, work_queue_names=["urgent"]) == []

    # Polling marks the queues and their deployments as polled: the deployments are READY.
    assert (await client.get(f"/api/deployments/{normal['id']}")).json()["status"] == "READY"
    async with app.state.db.read() as conn:
        polled = (await conn.execute(sa.select(t.work_queue.c.last_polled))).scalars().all()
    assert all(moment is not None for moment in polled)

    # The worker then takes the run as usual.
    run_id = claimed[0]["flow_run"]["id"]
    pending = await client.post(
        f"/api/flow_runs/{run_id}/set_state", json={"state": {"type": "PENDING"}}
    )
    assert pending.status_code == 201, pending.text


async def test_a_lapsed_claim_is_handed_out_again(client: httpx.AsyncClient, app: FastAPI) -> None:
    await add_pool(app.state.db)
    dep = await deploy(client)
    await due_runs(client, dep["id"], 1)
    [first] = await poll(client)
    assert await poll(client) == []

    def lapse(conn: sa.Connection) -> None:
        conn.execute(t.flow_run.update().values(claimed_until=utcnow() - dt.timedelta(seconds=1)))

    await app.state.db.write(lapse)  # the worker died before it moved the run on
    [again] = await poll(client)
    assert again["flow_run"]["id"] == first["flow_run"]["id"]


async def test_concurrency_limits_hold_runs_back(client: httpx.AsyncClient, app: FastAPI) -> None:
    db = app.state.db
    pool_id, default_queue = await add_pool(db)
    limited = await add_queue(db, pool_id, "limited", 5, concurrency_limit=1)
    capped = await deploy(client, "capped", concurrency_limit=2)
    one_at_a_time = await deploy(client, "one", work_queue_name="limited")
    await due_runs(client, capped["id"], 4)
    await due_runs(client, one_at_a_time["id"], 3)

    claimed = await poll(client)
    by_queue = Counter(item["work_queue_id"] for item in claimed)
    assert by_queue == {str(default_queue): 2, str(limited): 1}
    assert await poll(client) == []  # claims hold the slots

    # A slot frees when a run ends; the claim of a run that started still counts as busy.
    run_id = next(i["flow_run"]["id"] for i in claimed if i["work_queue_id"] == str(limited))
    for state in ("PENDING", "RUNNING", "COMPLETED"):
        response = await client.post(
            f"/api/flow_runs/{run_id}/set_state", json={"state": {"type": state}}
        )
        assert response.status_code == 201, response.text
    [next_one] = await poll(client)
    assert next_one["work_queue_id"] == str(limited)

    # The pool's own limit caps everything.
    def pool_limit(conn: sa.Connection) -> None:
        conn.execute(t.work_pool.update().values(concurrency_limit=2))

    await db.write(pool_limit)

    def lapse(conn: sa.Connection) -> None:
        conn.execute(t.flow_run.update().values(claimed_until=None))

    await db.write(lapse)
    # Without the pool's limit, the queue and deployment limits would allow 3 (2 + 1).
    assert len(await poll(client)) == 2


async def test_paused_pools_and_queues_hand_out_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    db = app.state.db
    await add_pool(db)
    dep = await deploy(client)
    await due_runs(client, dep["id"], 2)

    def pause(table: sa.Table, paused: bool) -> Any:
        def job(conn: sa.Connection) -> None:
            conn.execute(table.update().values(is_paused=paused))

        return job

    await db.write(pause(t.work_pool, True))
    assert await poll(client) == []
    await db.write(pause(t.work_pool, False))
    await db.write(pause(t.work_queue, True))
    assert await poll(client) == []
    await db.write(pause(t.work_queue, False))
    assert len(await poll(client)) == 2


async def test_unknown_pool_and_bad_bodies(client: httpx.AsyncClient) -> None:
    missing = await client.post("/api/work_pools/nowhere/get_scheduled_flow_runs", json=poll_body())
    assert assert_error(missing, 404, "not_found")["detail"] == 'Work pool "nowhere" not found.'
    for body in ({"scheduled_before": "soon"}, {"limit": 0}, {"work_queue_names": "default"}):
        response = await client.post("/api/work_pools/p1/get_scheduled_flow_runs", json=body)
        assert_error(response, 422, "invalid")


async def test_deployment_limit_holds_back_starts_from_any_runner(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """A runner that is not a worker (flow.serve) proposes PENDING directly: the server
    enforces the deployment's concurrency limit there too."""
    flow_id = await new_flow(client, "limited-flow")
    body = served_body(flow_id, schedules=[], concurrency_limit=1)
    dep = (await client.post("/api/deployments/", json=body)).json()
    url = f"/api/deployments/{dep['id']}/create_flow_run"
    first, second = [(await client.post(url, json={})).json()["id"] for _ in range(2)]

    async def propose(run_id: str, kind: str) -> httpx.Response:
        return await client.post(
            f"/api/flow_runs/{run_id}/set_state", json={"state": {"type": kind}}
        )

    assert (await propose(first, "PENDING")).json()["status"] == "ACCEPT"
    held = await propose(second, "PENDING")
    assert held.status_code == 201  # a state was written: the run waits for a slot
    assert held.json()["status"] == "REJECT"
    assert held.json()["state"]["name"] == "AwaitingConcurrencySlot"
    assert held.json()["state"]["type"] == "SCHEDULED"

    for kind in ("RUNNING", "COMPLETED"):
        assert (await propose(first, kind)).status_code == 201
    assert (await propose(second, "PENDING")).json()["status"] == "ACCEPT"

    # CANCEL_NEW: a start beyond the limit is cancelled instead.
    await client.patch(
        f"/api/deployments/{dep['id']}",
        json={"concurrency_options": {"collision_strategy": "CANCEL_NEW"}},
    )
    third = (await client.post(url, json={})).json()["id"]
    cancelled = await propose(third, "PENDING")
    assert cancelled.json()["state"]["type"] == "CANCELLED"
