"""Work pools, their queues and workers over HTTP, with the bodies the 3.9.1 client and CLI
send (compat surface S4, S5, §7.3): status from heartbeats, priorities, the legacy queue
routes, and the worker metadata the CLI reads."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from baton.clock import utcnow
from baton.db import tables as t
from baton.db.database import Database
from tests.api.test_error_shape import assert_error

POOL_KEYS = {
    "id",
    "created",
    "updated",
    "name",
    "description",
    "type",
    "base_job_template",
    "is_paused",
    "concurrency_limit",
    "status",
    "default_queue_id",
    "storage_configuration",
    "active_slots",
}
QUEUE_KEYS = {
    "id",
    "created",
    "updated",
    "name",
    "description",
    "is_paused",
    "concurrency_limit",
    "priority",
    "work_pool_id",
    "filter",
    "last_polled",
    "work_pool_name",
    "status",
    "active_slots",
}
WORKER_KEYS = {
    "id",
    "created",
    "updated",
    "name",
    "work_pool_id",
    "last_heartbeat_time",
    "heartbeat_interval_seconds",
    "status",
}

# `prefect work-pool create p1 --type process` (S4); the template's wording is ours.
PROCESS_TEMPLATE: dict[str, Any] = {
    "job_configuration": {
        "command": "{{ command }}",
        "env": "{{ env }}",
        "labels": "{{ labels }}",
        "name": "{{ name }}",
        "stream_output": "{{ stream_output }}",
        "working_dir": "{{ working_dir }}",
    },
    "variables": {
        "type": "object",
        "properties": {
            "name": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "env": {"type": "object", "additionalProperties": {"type": "string"}},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "command": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "stream_output": {"type": "boolean", "default": True},
            "working_dir": {
                "anyOf": [{"type": "string", "format": "path"}, {"type": "null"}],
                "default": None,
            },
        },
    },
}


def pool_body(name: str = "p1", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "process",
        "base_job_template": PROCESS_TEMPLATE,
        "is_paused": False,
        **extra,
    }


async def new_pool(client: httpx.AsyncClient, name: str = "p1", **extra: Any) -> dict[str, Any]:
    response = await client.post("/api/work_pools/", json=pool_body(name, **extra))
    assert response.status_code == 201, response.text
    pool: dict[str, Any] = response.json()
    return pool


async def read_pool(client: httpx.AsyncClient, name: str = "p1") -> dict[str, Any]:
    response = await client.get(f"/api/work_pools/{name}")
    assert response.status_code == 200, response.text
    pool: dict[str, Any] = response.json()
    return pool


async def pool_queues(client: httpx.AsyncClient, name: str = "p1") -> list[dict[str, Any]]:
    # What `worker start` sends (S4).
    body = {"work_queues": None, "limit": None, "offset": None}
    response = await client.post(f"/api/work_pools/{name}/queues/filter", json=body)
    assert response.status_code == 200, response.text
    queues: list[dict[str, Any]] = response.json()
    return queues


async def workers_of(
    client: httpx.AsyncClient, pool: str = "p1", workers: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    body = {"workers": workers, "offset": None, "limit": None}
    response = await client.post(f"/api/work_pools/{pool}/workers/filter", json=body)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def heartbeat(client: httpx.AsyncClient, name: str, pool: str = "p1") -> httpx.Response:
    body = {"name": name, "heartbeat_interval_seconds": 30}
    return await client.post(f"/api/work_pools/{pool}/workers/heartbeat", json=body)


async def age_workers(db: Database, seconds: float) -> None:
    """Move every worker's last heartbeat `seconds` into the past."""
    then = utcnow() - dt.timedelta(seconds=seconds)

    def job(conn: sa.Connection) -> None:
        conn.execute(t.worker.update().values(last_heartbeat_time=then))

    await db.write(job)


async def rows(db: Database, table: sa.Table, *where: Any) -> list[Any]:
    async with db.read() as conn:
        return list((await conn.execute(sa.select(table).where(*where))).all())


# --- pools ----------------------------------------------------------------------------------


async def test_create_makes_the_default_queue(client: httpx.AsyncClient, app: FastAPI) -> None:
    created = await new_pool(client)
    assert set(created) == POOL_KEYS
    assert created["name"] == "p1"
    assert created["type"] == "process"
    assert created["base_job_template"] == PROCESS_TEMPLATE
    assert created["status"] == "NOT_READY"
    assert created["is_paused"] is False
    assert created["concurrency_limit"] is None
    assert created["active_slots"] == 0
    assert created["storage_configuration"] == {
        "bundle_upload_step": None,
        "bundle_execution_step": None,
        "default_result_storage_block_id": None,
    }
    assert await read_pool(client) == created

    [queue] = await rows(app.state.db, t.work_queue)
    assert str(queue.id) == created["default_queue_id"]
    assert str(queue.work_pool_id) == created["id"]
    assert (queue.name, queue.priority) == ("default", 1)
    assert queue.description == "The work pool's default queue."


async def test_duplicate_unknown_and_refused_names(client: httpx.AsyncClient) -> None:
    await new_pool(client)
    again = await client.post("/api/work_pools/", json=pool_body())
    assert (
        assert_error(again, 409, "conflict")["detail"] == 'A work pool named "p1" already exists.'
    )

    missing = await client.get("/api/work_pools/nope")
    assert assert_error(missing, 404, "not_found")["detail"] == 'Work pool "nope" not found.'

    for name in ("a/b", "50%", "", "  ", "prefect-agents", "Prefect"):
        refused = await client.post("/api/work_pools/", json=pool_body(name))
        body = assert_error(refused, 422, "invalid")
        assert body["errors"][0]["loc"] == "body.name", (name, body)
    reserved = await client.post("/api/work_pools/", json=pool_body("prefect-x"))
    assert "reserved" in assert_error(reserved, 422, "invalid")["detail"]

    no_variables = {"job_configuration": {"command": "{{ command }}"}}
    bad = await client.post(
        "/api/work_pools/", json=pool_body("p2", base_job_template=no_variables)
    )
    body = assert_error(bad, 422, "invalid")
    assert body["errors"][0]["loc"] == "body.base_job_template"
    assert "variables" in body["detail"]


async def test_patch_and_pause(client: httpx.AsyncClient, app: FastAPI) -> None:
    created = await new_pool(client)
    patch = {
        "description": "nightly jobs",
        "concurrency_limit": 4,
        "storage_configuration": {"bundle_upload_step": {"step": {"bucket": "b"}}},
    }
    response = await client.patch("/api/work_pools/p1", json=patch)
    assert response.status_code == 204, response.text
    pool = await read_pool(client)
    assert pool["description"] == "nightly jobs"
    assert pool["concurrency_limit"] == 4
    assert pool["storage_configuration"]["bundle_upload_step"] == {"step": {"bucket": "b"}}
    assert pool["updated"] > created["updated"]

    # The client's update sends nulls for what it leaves alone; a null limit removes it.
    paused = {"is_paused": True, "base_job_template": None, "concurrency_limit": None}
    assert (await client.patch("/api/work_pools/p1", json=paused)).status_code == 204
    pool = await read_pool(client)
    assert pool["status"] == "PAUSED"
    assert pool["is_paused"] is True
    assert pool["concurrency_limit"] is None
    assert pool["base_job_template"] == PROCESS_TEMPLATE
    [row] = await rows(app.state.db, t.work_pool)
    assert row.is_paused is True

    # A paused pool stays PAUSED even with a worker online.
    assert (await heartbeat(client, "w1")).status_code == 204
    assert (await read_pool(client))["status"] == "PAUSED"
    await client.patch("/api/work_pools/p1", json={"is_paused": False})
    assert (await read_pool(client))["status"] == "READY"

    missing = await client.patch("/api/work_pools/nope", json={"is_paused": True})
    assert_error(missing, 404, "not_found")
    bad = await client.patch("/api/work_pools/p1", json={"concurrency_limit": -1})
    assert assert_error(bad, 422, "invalid")["errors"][0]["loc"] == "body.concurrency_limit"


async def test_delete_takes_queues_and_workers(client: httpx.AsyncClient, app: FastAPI) -> None:
    db: Database = app.state.db
    await new_pool(client)
    flow = await client.post("/api/flows/", json={"name": "wf", "tags": [], "labels": {}})
    deployment = await client.post(
        "/api/deployments/",
        json={"name": "d1", "flow_id": flow.json()["id"], "work_pool_name": "p1"},
    )
    assert deployment.status_code == 201, deployment.text
    assert deployment.json()["work_queue_name"] == "default"
    assert (await heartbeat(client, "w1")).status_code == 204

    assert (await client.delete("/api/work_pools/p1")).status_code == 204
    assert await rows(db, t.work_pool) == []
    assert await rows(db, t.work_queue) == []
    assert await rows(db, t.worker) == []
    [dep] = await rows(db, t.deployment)
    assert (dep.work_queue_name, dep.work_queue_id) == ("default", None)

    again = await client.delete("/api/work_pools/p1")
    assert assert_error(again, 404, "not_found")["detail"] == 'Work pool "p1" not found.'


async def test_filter_and_count(client: httpx.AsyncClient) -> None:
    for name in ("c-pool", "a-pool", "b-pool"):
        await new_pool(client, name)
    await new_pool(client, "d-pool", type="docker")

    # `work-pool ls` (S5).
    listed = await client.post(
        "/api/work_pools/filter", json={"limit": None, "offset": 0, "work_pools": None}
    )
    assert listed.status_code == 200, listed.text
    assert [p["name"] for p in listed.json()] == ["a-pool", "b-pool", "c-pool", "d-pool"]
    assert all(set(p) == POOL_KEYS for p in listed.json())

    async def names(body: dict[str, Any]) -> list[str]:
        response = await client.post("/api/work_pools/filter", json=body)
        assert response.status_code == 200, response.text
        return [p["name"] for p in response.json()]

    assert await names({"work_pools": {"type": {"any_": ["docker"]}}}) == ["d-pool"]
    assert await names({"work_pools": {"name": {"any_": ["c-pool", "a-pool"]}}}) == [
        "a-pool",
        "c-pool",
    ]
    pool_id = listed.json()[1]["id"]
    assert await names({"work_pools": {"id": {"any_": [pool_id]}}}) == ["b-pool"]
    assert await names({"limit": 2, "offset": 1}) == ["b-pool", "c-pool"]

    count = await client.post("/api/work_pools/count", json={})
    assert count.json() == 4
    count = await client.post(
        "/api/work_pools/count", json={"work_pools": {"type": {"any_": ["process"]}}}
    )
    assert count.json() == 3


async def test_active_slots_count_runs_holding_a_slot(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await new_pool(client)
    await new_pool(client, "other")
    flow = await client.post("/api/flows/", json={"name": "wf", "tags": [], "labels": {}})
    deployment = await client.post(
        "/api/deployments/",
        json={"name": "d1", "flow_id": flow.json()["id"], "work_pool_name": "p1"},
    )
    dep_id = deployment.json()["id"]
    run_ids = []
    for _ in range(3):
        run = await client.post(f"/api/deployments/{dep_id}/create_flow_run", json={})
        assert run.status_code == 201, run.text
        run_ids.append(run.json()["id"])
    for run_id in run_ids[:2]:
        state = {"state": {"type": "PENDING"}}
        response = await client.post(f"/api/flow_runs/{run_id}/set_state", json=state)
        assert response.status_code == 201, response.text

    pools = (await client.post("/api/work_pools/filter", json={})).json()
    assert {p["name"]: p["active_slots"] for p in pools} == {"other": 0, "p1": 2}
    [default] = await pool_queues(client)
    assert default["active_slots"] == 2


# --- queues ---------------------------------------------------------------------------------


async def test_queue_crud_and_priorities(client: httpx.AsyncClient, app: FastAPI) -> None:
    pool = await new_pool(client)
    create = {"name": "high", "description": None, "is_paused": False, "concurrency_limit": None}
    response = await client.post("/api/work_pools/p1/queues", json=create)
    assert response.status_code == 201, response.text
    high = response.json()
    assert set(high) == QUEUE_KEYS
    assert high["priority"] == 2  # after the default queue
    assert high["work_pool_id"] == pool["id"]
    assert high["work_pool_name"] == "p1"
    assert high["status"] == "NOT_READY"
    assert high["active_slots"] == 0

    # Taking a held priority moves that queue and the ones after it down, in order.
    urgent = await client.post("/api/work_pools/p1/queues/", json={"name": "urgent", "priority": 1})
    assert urgent.status_code == 201, urgent.text
    assert [(q["name"], q["priority"]) for q in await pool_queues(client)] == [
        ("urgent", 1),
        ("default", 2),
        ("high", 3),
    ]
    # A free priority moves nobody.
    await client.post("/api/work_pools/p1/queues", json={"name": "low", "priority": 10})
    response = await client.patch("/api/work_pools/p1/queues/high", json={"priority": 2})
    assert response.status_code == 204, response.text
    assert [(q["name"], q["priority"]) for q in await pool_queues(client)] == [
        ("urgent", 1),
        ("high", 2),
        ("default", 3),
        ("low", 10),
    ]

    read = await client.get("/api/work_pools/p1/queues/high")
    assert read.status_code == 200, read.text
    assert read.json()["id"] == high["id"]

    patch = {"name": "top", "description": "first", "concurrency_limit": 2, "is_paused": None}
    assert (await client.patch("/api/work_pools/p1/queues/high", json=patch)).status_code == 204
    top = (await client.get("/api/work_pools/p1/queues/top")).json()
    assert (top["id"], top["description"], top["concurrency_limit"]) == (high["id"], "first", 2)
    [row] = await rows(app.state.db, t.work_queue, t.work_queue.c.name == "top")
    assert row.priority == 2

    by_name = await client.post(
        "/api/work_pools/p1/queues/filter", json={"work_queues": {"name": {"any_": ["low"]}}}
    )
    assert [q["name"] for q in by_name.json()] == ["low"]
    prefixed = await client.post(
        "/api/work_pools/p1/queues/filter", json={"work_queues": {"name": {"startswith_": ["T"]}}}
    )
    assert [q["name"] for q in prefixed.json()] == ["top"]

    duplicate = await client.post("/api/work_pools/p1/queues", json={"name": "low"})
    assert "already exists" in assert_error(duplicate, 409, "conflict")["detail"]
    renamed = await client.patch("/api/work_pools/p1/queues/top", json={"name": "low"})
    assert_error(renamed, 409, "conflict")
    missing = await client.get("/api/work_pools/p1/queues/nope")
    detail = assert_error(missing, 404, "not_found")["detail"]
    assert detail == 'Work queue "nope" not found in work pool "p1".'
    no_pool = await client.post("/api/work_pools/nope/queues", json={"name": "q"})
    assert assert_error(no_pool, 404, "not_found")["detail"] == 'Work pool "nope" not found.'
    bad = await client.post("/api/work_pools/p1/queues", json={"name": "q", "priority": 0})
    assert assert_error(bad, 422, "invalid")["errors"][0]["loc"] == "body.priority"
    slash = await client.post("/api/work_pools/p1/queues", json={"name": "a/b"})
    assert assert_error(slash, 422, "invalid")["errors"][0]["loc"] == "body.name"

    refused = await client.delete("/api/work_pools/p1/queues/default")
    assert "default queue" in assert_error(refused, 409, "conflict")["detail"]
    assert (await client.delete("/api/work_pools/p1/queues/low")).status_code == 204
    assert [q["name"] for q in await pool_queues(client)] == ["urgent", "top", "default"]
    assert_error(await client.delete("/api/work_pools/p1/queues/low"), 404, "not_found")


async def test_queue_status(client: httpx.AsyncClient) -> None:
    await new_pool(client)
    await client.post("/api/work_pools/p1/queues", json={"name": "q"})
    assert (await client.get("/api/work_pools/p1/queues/q")).json()["status"] == "NOT_READY"

    polled = {"last_polled": utcnow().isoformat()}
    assert (await client.patch("/api/work_pools/p1/queues/q", json=polled)).status_code == 204
    assert (await client.get("/api/work_pools/p1/queues/q")).json()["status"] == "READY"

    long_ago = {"last_polled": (utcnow() - dt.timedelta(minutes=5)).isoformat()}
    await client.patch("/api/work_pools/p1/queues/q", json=long_ago)
    assert (await client.get("/api/work_pools/p1/queues/q")).json()["status"] == "NOT_READY"

    await client.patch("/api/work_pools/p1/queues/q", json={"is_paused": True})
    assert (await client.get("/api/work_pools/p1/queues/q")).json()["status"] == "PAUSED"
    await client.patch("/api/work_pools/p1/queues/q", json={"is_paused": False})
    await client.patch("/api/work_pools/p1", json={"is_paused": True})
    assert {q["status"] for q in await pool_queues(client)} == {"PAUSED"}


async def test_legacy_queue_routes(client: httpx.AsyncClient, app: FastAPI) -> None:
    pool = await new_pool(client)
    await new_pool(client, "p2")
    queue_id = pool["default_queue_id"]

    # The engine's lookup when it adds `related` resources to events (S4).
    by_id = await client.get(f"/api/work_queues/{queue_id}")
    assert by_id.status_code == 200, by_id.text
    assert set(by_id.json()) == QUEUE_KEYS
    assert (by_id.json()["name"], by_id.json()["work_pool_name"]) == ("default", "p1")

    by_name = await client.get("/api/work_queues/name/default")
    assert by_name.json()["id"] == queue_id  # the oldest of the two "default" queues
    assert_error(await client.get("/api/work_queues/name/nope"), 404, "not_found")
    missing = await client.get(f"/api/work_queues/{uuid.uuid4()}")
    assert assert_error(missing, 404, "not_found")["detail"] == "Work queue not found."

    listed = await client.post("/api/work_queues/filter", json={"work_queues": None})
    assert [q["work_pool_name"] for q in listed.json()] == ["p1", "p2"]
    only = await client.post(
        "/api/work_queues/filter", json={"work_queues": {"id": {"any_": [queue_id]}}}
    )
    assert [q["id"] for q in only.json()] == [queue_id]

    patch = {"description": "renamed", "concurrency_limit": 3}
    assert (await client.patch(f"/api/work_queues/{queue_id}", json=patch)).status_code == 204
    [row] = await rows(app.state.db, t.work_queue, t.work_queue.c.id == uuid.UUID(queue_id))
    assert (row.description, row.concurrency_limit) == ("renamed", 3)

    status = await client.get(f"/api/work_queues/{queue_id}/status")
    assert status.status_code == 200, status.text
    assert status.json() == {
        "healthy": False,  # never polled
        "late_runs_count": 0,
        "last_polled": None,
        "health_check_policy": {"maximum_late_runs": 0, "maximum_seconds_since_last_polled": 60},
    }
    now = {"last_polled": utcnow().isoformat()}
    await client.patch(f"/api/work_queues/{queue_id}", json=now)
    assert (await client.get(f"/api/work_queues/{queue_id}/status")).json()["healthy"] is True

    refused = await client.delete(f"/api/work_queues/{queue_id}")
    assert_error(refused, 409, "conflict")


# --- workers --------------------------------------------------------------------------------


async def test_heartbeat_makes_the_worker_online_and_the_pool_ready(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    pool = await new_pool(client)
    before = utcnow()
    response = await heartbeat(client, "ProcessWorker 1")
    assert response.status_code == 204, response.text
    assert (await heartbeat(client, "ProcessWorker 1")).status_code == 204  # the same worker

    [worker] = await workers_of(client)
    assert set(worker) == WORKER_KEYS
    assert worker["name"] == "ProcessWorker 1"
    assert worker["work_pool_id"] == pool["id"]
    assert worker["heartbeat_interval_seconds"] == 30
    assert worker["status"] == "ONLINE"
    [row] = await rows(app.state.db, t.worker)
    assert row.last_heartbeat_time >= before
    assert (await read_pool(client))["status"] == "READY"

    # What `deploy` asks before printing its "no workers" hint (S4).
    online = await workers_of(client, workers={"status": {"any_": ["ONLINE"]}})
    assert [w["name"] for w in online] == ["ProcessWorker 1"]

    with_id = await client.post(
        "/api/work_pools/p1/workers/heartbeat", json={"name": "ProcessWorker 1", "return_id": True}
    )
    assert with_id.status_code == 200, with_id.text
    assert uuid.UUID(with_id.text) == row.id

    unknown = await heartbeat(client, "w", pool="nope")
    assert assert_error(unknown, 404, "not_found")["detail"] == 'Work pool "nope" not found.'
    bad = await client.post(
        "/api/work_pools/p1/workers/heartbeat", json={"name": "w", "heartbeat_interval_seconds": 0}
    )
    body = assert_error(bad, 422, "invalid")
    assert body["errors"][0]["loc"] == "body.heartbeat_interval_seconds"


async def test_silent_workers_go_offline(client: httpx.AsyncClient, app: FastAPI) -> None:
    db: Database = app.state.db
    await new_pool(client)
    await heartbeat(client, "old")
    # Two missed heartbeats: still online; three: offline.
    await age_workers(db, 61)
    assert (await workers_of(client))[0]["status"] == "ONLINE"
    assert (await read_pool(client))["status"] == "READY"
    await age_workers(db, 91)
    assert (await workers_of(client))[0]["status"] == "OFFLINE"
    assert (await read_pool(client))["status"] == "NOT_READY"
    listed = (await client.post("/api/work_pools/filter", json={})).json()
    assert listed[0]["status"] == "NOT_READY"

    await heartbeat(client, "new")
    assert (await read_pool(client))["status"] == "READY"

    async def names(workers: dict[str, Any]) -> list[str]:
        return [w["name"] for w in await workers_of(client, workers=workers)]

    assert await names({"status": {"any_": ["OFFLINE"]}}) == ["old"]
    assert await names({"status": {"any_": ["ONLINE"]}}) == ["new"]
    assert await names({"status": {"not_any_": ["ONLINE"]}}) == ["old"]
    assert await names({"status": {"any_": ["ONLINE", "OFFLINE"]}}) == ["new", "old"]
    a_minute_ago = (utcnow() - dt.timedelta(minutes=1)).isoformat()
    assert await names({"last_heartbeat_time": {"before_": a_minute_ago}}) == ["old"]
    assert await names({"last_heartbeat_time": {"after_": a_minute_ago}}) == ["new"]
    bad = await client.post(
        "/api/work_pools/p1/workers/filter", json={"workers": {"status": {"any_": ["ASLEEP"]}}}
    )
    assert assert_error(bad, 422, "invalid")["errors"][0]["loc"].startswith("body.workers.status")

    # A worker with a longer interval is given longer.
    await client.post(
        "/api/work_pools/p1/workers/heartbeat",
        json={"name": "slow", "heartbeat_interval_seconds": 120},
    )
    await age_workers(db, 300)
    assert await names({"status": {"any_": ["ONLINE"]}}) == ["slow"]


async def test_delete_worker(client: httpx.AsyncClient, app: FastAPI) -> None:
    await new_pool(client)
    await heartbeat(client, "w1")
    await heartbeat(client, "w2")
    assert (await client.delete("/api/work_pools/p1/workers/w1")).status_code == 204
    assert [r.name for r in await rows(app.state.db, t.worker)] == ["w2"]
    again = await client.delete("/api/work_pools/p1/workers/w1")
    detail = assert_error(again, 404, "not_found")["detail"]
    assert detail == 'Worker "w1" not found in work pool "p1".'
    no_pool = await client.post("/api/work_pools/nope/workers/filter", json={})
    assert_error(no_pool, 404, "not_found")


# --- worker types ---------------------------------------------------------------------------


async def test_aggregate_worker_metadata(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/collections/views/aggregate-worker-metadata")
    assert response.status_code == 200, response.text
    process = response.json()["process"]["process"]
    assert process["type"] == "process"
    assert process["is_beta"] is False
    for key in ("display_name", "description", "documentation_url", "install_command"):
        assert key in process
    template = process["default_base_job_configuration"]
    assert set(template["job_configuration"]) == {
        "command",
        "env",
        "labels",
        "name",
        "stream_output",
        "working_dir",
    }
    assert template["variables"]["type"] == "object"
    assert set(template["variables"]["properties"]) == set(template["job_configuration"])

    # The template is one a pool accepts as it is.
    created = await client.post(
        "/api/work_pools/", json={"name": "p1", "type": "process", "base_job_template": template}
    )
    assert created.status_code == 201, created.text
