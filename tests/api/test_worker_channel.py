"""The worker channel websocket (compat surface §4.5): auth, hello → ready with the pool's
snapshot, heartbeats stored, pools created on request, and the close codes the client
classifies. Served by a real uvicorn in this process, on top of the `app` fixture's
lifespan, so the rows can be read straight from the app's database."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from baton.clock import utcnow
from baton.db import tables as t
from baton.db.database import Database
from tests.api.test_work_pools import POOL_KEYS, PROCESS_TEMPLATE, age_workers, new_pool, rows

CONSUMER = "0b4f8a4e-36b2-4a3f-9d55-0f4f6c1d2e3a"


def hello(**changes: Any) -> str:
    """The process worker's hello, as `prefect worker start --pool p1` sends it."""
    payload = {
        "consumer_id": CONSUMER,
        "worker_name": "ProcessWorker 5c0a1d6e-9a51-4f0e-8a59-4cf0b0c3c7f1",
        "worker_type": "process",
        "heartbeat_interval_seconds": 30,
        "supported_channel_versions": ["work_pool_worker_channel.v1"],
        "requested_capabilities": ["worker_heartbeat.v1", "work_pool_snapshot.v1"],
        "work_queue_names": [],
        "handled_cleanup_kinds": [],
        "max_cleanup_concurrency": 0,
        "create_pool_if_not_found": True,
        "default_base_job_template": PROCESS_TEMPLATE,
        "worker_metadata": None,
        **changes,
    }
    return frame("worker.hello.v1", payload)


def beat(**changes: Any) -> str:
    payload = {
        "consumer_id": CONSUMER,
        "worker_name": "ProcessWorker 5c0a1d6e-9a51-4f0e-8a59-4cf0b0c3c7f1",
        "heartbeat_interval_seconds": 30,
        **changes,
    }
    return frame("worker.heartbeat.v1", payload)


def frame(kind: str, payload: dict[str, Any]) -> str:
    return orjson.dumps(
        {
            "type": kind,
            "id": "019a6c2e-5a7b-7c3d-9e1f-2a3b4c5d6e7f",
            "sent_at": "2026-11-26T23:00:01.123456Z",
            "payload": payload,
        }
    ).decode()


async def _open(ws_api: str, pool: str = "p1", *, auth: bool = True) -> ClientConnection:
    ws = await connect(
        f"{ws_api}/work_pools/{pool}/workers/connect", subprotocols=[Subprotocol("prefect")]
    )
    assert ws.subprotocol == "prefect"
    if auth:
        await ws.send('{"type":"auth","token":null}')
        assert orjson.loads(await ws.recv()) == {"type": "auth_success"}
    return ws


async def _ready(ws: ClientConnection, hello_frame: str | None = None) -> dict[str, Any]:
    await ws.send(hello_frame or hello())
    ready: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
    return ready


async def _closed(ws: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def _parse(moment: str) -> dt.datetime:
    return dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))


async def test_hello_gets_ready_with_the_pool_snapshot(
    ws_api: str, app: FastAPI, client: httpx.AsyncClient
) -> None:
    pool = await new_pool(client)
    assert pool["status"] == "NOT_READY"
    before = utcnow()
    ws = await _open(ws_api)
    ready = await _ready(ws)

    assert set(ready) == {"type", "id", "sent_at", "payload"}
    assert ready["type"] == "worker.ready.v1"
    assert uuid.UUID(ready["id"]).version == 7
    assert _parse(ready["sent_at"]) >= before
    payload = ready["payload"]
    [worker] = await rows(app.state.db, t.worker)
    assert payload == {
        "consumer_id": CONSUMER,
        "worker_id": str(worker.id),
        "selected_channel_version": "work_pool_worker_channel.v1",
        "effective_heartbeat_interval_seconds": 30,
        "accepted_capabilities": ["worker_heartbeat.v1", "work_pool_snapshot.v1"],
        "rejected_capabilities": [],
        "effective_max_cleanup_concurrency": 0,
        "resolved_work_queues": [{"id": pool["default_queue_id"], "name": "default"}],
        "initial_snapshot": {
            "snapshot_sequence": 1,
            "reason": "initial",
            "work_pool": payload["initial_snapshot"]["work_pool"],
        },
    }
    snapshot = payload["initial_snapshot"]["work_pool"]
    assert set(snapshot) == POOL_KEYS
    assert snapshot["status"] == "READY"  # the hello counts as a heartbeat
    assert {k: v for k, v in snapshot.items() if k not in ("status", "updated")} == {
        k: v for k, v in pool.items() if k not in ("status", "updated")
    }

    # The worker row: named after the client's worker, heartbeat at the hello.
    assert worker.name == "ProcessWorker 5c0a1d6e-9a51-4f0e-8a59-4cf0b0c3c7f1"
    assert worker.heartbeat_interval_seconds == 30
    assert worker.last_heartbeat_time >= before
    assert (await client.get("/api/work_pools/p1")).json()["status"] == "READY"

    # The socket stays open until the worker closes it.
    await asyncio.sleep(0.1)
    assert ws.state.name == "OPEN"
    await ws.close()


async def test_heartbeat_frames_are_stored(
    ws_api: str, app: FastAPI, client: httpx.AsyncClient
) -> None:
    db: Database = app.state.db
    await new_pool(client)
    ws = await _open(ws_api)
    await _ready(ws)
    await age_workers(db, 600)
    [old] = await rows(db, t.worker)
    listed = (await client.post("/api/work_pools/p1/workers/filter", json={})).json()
    assert listed[0]["status"] == "OFFLINE"

    await ws.send(beat(heartbeat_interval_seconds=45))
    deadline = asyncio.get_running_loop().time() + 10
    while (await rows(db, t.worker))[0].last_heartbeat_time == old.last_heartbeat_time:
        assert asyncio.get_running_loop().time() < deadline, "heartbeat not stored"
        await asyncio.sleep(0.05)
    [worker] = await rows(db, t.worker)
    assert worker.id == old.id
    assert worker.heartbeat_interval_seconds == 45
    assert utcnow() - worker.last_heartbeat_time < dt.timedelta(seconds=10)
    listed = (await client.post("/api/work_pools/p1/workers/filter", json={})).json()
    assert listed[0]["status"] == "ONLINE"
    await ws.close()


async def test_hello_creates_the_pool_when_asked(ws_api: str, app: FastAPI) -> None:
    ws = await _open(ws_api, "fresh")
    ready = await _ready(ws, hello(work_queue_names=["default", "missing"]))
    snapshot = ready["payload"]["initial_snapshot"]["work_pool"]
    assert (snapshot["name"], snapshot["type"]) == ("fresh", "process")
    assert snapshot["base_job_template"] == PROCESS_TEMPLATE
    assert snapshot["status"] == "READY"
    assert ready["payload"]["resolved_work_queues"] == [
        {"id": snapshot["default_queue_id"], "name": "default"}
    ]
    [pool] = await rows(app.state.db, t.work_pool)
    assert str(pool.id) == snapshot["id"]
    await ws.close()

    # Not asked: the pool must exist.
    ws = await _open(ws_api, "absent")
    await ws.send(hello(create_pool_if_not_found=False))
    assert await _closed(ws) == (1008, "work_pool_not_found")
    # A name no pool may have is never created.
    ws = await _open(ws_api, "prefect-managed")
    await ws.send(hello())
    assert await _closed(ws) == (1008, "invalid_work_pool_name")
    assert len(await rows(app.state.db, t.work_pool)) == 1


async def test_capabilities_it_does_not_serve_are_rejected(
    ws_api: str, client: httpx.AsyncClient
) -> None:
    await new_pool(client)
    await client.post("/api/work_pools/p1/queues", json={"name": "second"})
    ws = await _open(ws_api)
    requested = ["worker_heartbeat.v1", "work_pool_snapshot.v1", "cleanup_delivery.v1"]
    ready = await _ready(
        ws,
        hello(
            requested_capabilities=requested,
            handled_cleanup_kinds=["pending_claim_teardown.v1"],
            max_cleanup_concurrency=2,
            heartbeat_interval_seconds=15,
        ),
    )
    payload = ready["payload"]
    assert payload["accepted_capabilities"] == ["worker_heartbeat.v1", "work_pool_snapshot.v1"]
    assert payload["rejected_capabilities"] == ["cleanup_delivery.v1"]
    assert payload["effective_max_cleanup_concurrency"] == 0
    assert payload["effective_heartbeat_interval_seconds"] == 15
    assert [q["name"] for q in payload["resolved_work_queues"]] == ["default", "second"]
    await ws.close()


@pytest.mark.parametrize(
    ("sent", "close"),
    [
        ("not json", (1002, "protocol_error")),
        ('{"type": "worker.heartbeat.v1"}', (1002, "protocol_error")),  # before the hello
        (
            hello(supported_channel_versions=["work_pool_worker_channel.v2"]),
            (1008, "unsupported_version"),
        ),
        (hello(requested_capabilities=["worker_heartbeat.v1"]), (1002, "protocol_error")),
        (hello(heartbeat_interval_seconds=0), (1002, "protocol_error")),
        (hello(consumer_id="not-a-uuid"), (1002, "protocol_error")),
    ],
)
async def test_bad_hello_closes(
    ws_api: str, client: httpx.AsyncClient, sent: str, close: tuple[int, str]
) -> None:
    await new_pool(client)
    ws = await _open(ws_api)
    await ws.send(sent)
    assert await _closed(ws) == close


@pytest.mark.parametrize(
    "sent",
    [
        "[]",
        beat(consumer_id=str(uuid.uuid4())),  # another worker's heartbeat
        beat(heartbeat_interval_seconds="often"),
        frame("cleanup.ack.v1", {"message_id": str(uuid.uuid4()), "reservation_token": "x"}),
        frame("worker.unknown.v9", {}),
    ],
)
async def test_bad_frames_after_ready_close(
    ws_api: str, client: httpx.AsyncClient, sent: str
) -> None:
    await new_pool(client)
    ws = await _open(ws_api)
    await _ready(ws)
    await ws.send(sent)
    assert await _closed(ws) == (1002, "protocol_error")


async def test_the_first_frame_must_be_auth(ws_api: str, client: httpx.AsyncClient) -> None:
    await new_pool(client)
    ws = await _open(ws_api, auth=False)
    await ws.send(hello())
    assert await _closed(ws) == (1002, "protocol_error")

    # Without the `prefect` subprotocol there is no channel to speak.
    async with connect(f"{ws_api}/work_pools/p1/workers/connect") as plain:
        assert plain.subprotocol is None
        assert await _closed(plain) == (1002, "protocol_error")


async def test_a_heartbeat_that_cannot_be_stored_closes_retryably(
    ws_api: str, app: FastAPI, client: httpx.AsyncClient
) -> None:
    db: Database = app.state.db
    await new_pool(client)
    ws = await _open(ws_api)
    await _ready(ws)

    def break_worker_table(conn: sa.Connection) -> None:
        conn.execute(sa.text("DROP TABLE worker"))

    await db.write(break_worker_table)
    await ws.send(beat())
    assert await _closed(ws) == (1011, "heartbeat_persistence_failed")


async def test_a_deleted_pool_ends_the_session(ws_api: str, client: httpx.AsyncClient) -> None:
    await new_pool(client)
    ws = await _open(ws_api)
    await _ready(ws)
    assert (await client.delete("/api/work_pools/p1")).status_code == 204
    await ws.send(beat())
    assert await _closed(ws) == (1011, "heartbeat_persistence_failed")
