"""Events: the websocket stream in (handshake, de-duplication, malformed frames), live
subscriptions out, stored reads, and the batching store itself.

The websockets are served by a real uvicorn in this process, on top of the `app` fixture's
lifespan, so the rows can be read straight from the app's database.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from baton.db import tables as t
from baton.db.database import Database
from baton.events.query import read_events
from baton.events.store import EventStore, insert_events, new_event
from baton.schemas.events import Event, EventFilter, matches
from baton.settings import DATABASE_URL_VAR, Settings
from tests.support.server import baton_env, baton_server

# --- literal events, as the 3.9.1 client sent them (compat surface §4.6) -----------------

PENDING = """{
  "occurred": "2026-11-26T22:58:52.143505Z",
  "event": "prefect.task-run.Pending",
  "resource": {
    "prefect.resource.id": "prefect.task-run.01a21a15-486e-7a0d-8eb3-ab8762137510",
    "prefect.resource.name": "add-352",
    "prefect.run-count": "0",
    "prefect.state-message": "",
    "prefect.state-name": "Pending",
    "prefect.state-timestamp": "2026-11-26T22:58:52.143505+00:00",
    "prefect.state-type": "PENDING",
    "prefect.orchestration": "client"
  },
  "related": [
    {"prefect.resource.id": "prefect.flow-run.616a952c-4d2c-41ad-ac25-29abe0b17c1e",
     "prefect.resource.role": "flow-run", "prefect.resource.name": "positive-hawk"},
    {"prefect.resource.id": "prefect.flow.d5a6c4bd-94e3-4bad-816b-977747e2df5c",
     "prefect.resource.role": "flow", "prefect.resource.name": "my-flow"}
  ],
  "payload": {
    "intended": {"from": null, "to": "PENDING"},
    "initial_state": null,
    "validated_state": {"type": "PENDING", "name": "Pending", "message": "", "state_details": {},
                        "data": null},
    "task_run": {
      "name": "add-352", "task_key": "add-e38f479a",
      "dynamic_key": "35293ac4-b8ea-4f24-96d1-9f8b6156d4b4",
      "empirical_policy": {"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 0,
                           "retry_delay": 0},
      "tags": [], "labels": {}, "task_inputs": {"x": [], "y": []}, "run_count": 0,
      "flow_run_run_count": 0, "expected_start_time": "2026-11-26T22:58:52.143505Z",
      "total_run_time": 0.0
    }
  },
  "id": "01a21a15-486f-73dc-b312-93ae07c41535",
  "follows": null
}"""

RUNNING = """{
  "occurred": "2026-11-26T22:58:52.144588Z",
  "event": "prefect.task-run.Running",
  "resource": {
    "prefect.resource.id": "prefect.task-run.01a21a15-486e-7a0d-8eb3-ab8762137510",
    "prefect.resource.name": "add-352", "prefect.run-count": "1", "prefect.state-message": "",
    "prefect.state-name": "Running",
    "prefect.state-timestamp": "2026-11-26T22:58:52.144588+00:00",
    "prefect.state-type": "RUNNING", "prefect.orchestration": "client"
  },
  "related": [
    {"prefect.resource.id": "prefect.flow-run.616a952c-4d2c-41ad-ac25-29abe0b17c1e",
     "prefect.resource.role": "flow-run", "prefect.resource.name": "positive-hawk"},
    {"prefect.resource.id": "prefect.flow.d5a6c4bd-94e3-4bad-816b-977747e2df5c",
     "prefect.resource.role": "flow", "prefect.resource.name": "my-flow"}
  ],
  "payload": {
    "intended": {"from": "PENDING", "to": "RUNNING"},
    "initial_state": {"type": "PENDING", "name": "Pending", "message": "", "state_details": {}},
    "validated_state": {"type": "RUNNING", "name": "Running", "message": "", "state_details": {},
                        "data": null},
    "task_run": {"name": "add-352", "task_key": "add-e38f479a", "run_count": 1}
  },
  "id": "01a21a15-4870-7e06-ad9d-d0acae9afd0c",
  "follows": "01a21a15-486f-73dc-b312-93ae07c41535"
}"""

HEARTBEAT = """{
  "occurred": "2026-11-26T23:00:11.758386Z",
  "event": "prefect.flow-run.heartbeat",
  "resource": {"prefect.resource.id": "prefect.flow-run.01a21a16-6181-7bb1-9039-5112783d4655",
               "prefect.resource.name": "convivial-malamute", "prefect.version": "3.9.1"},
  "related": [
    {"prefect.resource.id": "prefect.flow.42e15528-4908-4616-964b-176f21ddf5f5",
     "prefect.resource.role": "flow", "prefect.resource.name": "served-flow"},
    {"prefect.resource.id": "prefect.deployment.d9e52dd1-68c5-4bd3-99dc-75a5cf26c4fe",
     "prefect.resource.role": "deployment"},
    {"prefect.resource.id": "prefect.tag.auto-scheduled", "prefect.resource.role": "tag"},
    {"prefect.resource.id": "prefect.tag.cap", "prefect.resource.role": "tag"}
  ],
  "payload": {},
  "id": "01a21a16-7f6f-7a7e-8d74-ed1c5728e724",
  "follows": null
}"""

WORKER_STARTED = """{
  "occurred": "2026-11-26T23:02:30.344398Z",
  "event": "prefect.worker.started",
  "resource": {
    "prefect.resource.id":
      "prefect.worker.process.processworker-e3563d25-2925-41df-a6d5-48ab48779ef9",
    "prefect.resource.name": "ProcessWorker e3563d25-2925-41df-a6d5-48ab48779ef9",
    "prefect.version": "3.9.1", "prefect.worker-type": "process"
  },
  "related": [{"prefect.resource.id": "prefect.work-pool.370fec5b-2dbc-4c5f-89f0-70759ca26015",
               "prefect.resource.role": "work-pool", "prefect.resource.name": "p1"}],
  "payload": {},
  "id": "01a21a18-9cc9-70ca-86d8-629c75f00b1e",
  "follows": null
}"""

CANCELLING_RESOURCE = {
    "prefect.resource.id": "prefect.flow-run.d2fdc31f-c37e-4536-bd51-199ecdf80876",
    "prefect.resource.name": "tested-cuscus",
    "prefect.state-name": "Cancelling",
    "prefect.state-type": "CANCELLING",
}
CANCELLING_RELATED = [
    {
        "prefect.resource.id": "prefect.flow.b45f1b82-2fad-4a95-a5e0-253f97222482",
        "prefect.resource.role": "flow",
        "prefect.resource.name": "sleepy",
    }
]

# The filter frame a worker sends on /events/out (surface §4.3), with `since` filled in.
CANCELLING_FILTER = """{"type":"filter","filter":{"occurred":{"since":"%s","until":"%s"},
 "event":{"prefix":null,"exclude_prefix":null,"name":["prefect.flow-run.Cancelling"],
 "exclude_name":null},"resource":null,"related":null,"any_resource":null,"id":{"id":[]},
 "text":null,"order":"DESC"}}"""


def _event(literal: str, **changes: Any) -> str:
    """A literal event with some keys replaced (say, a fresh id or occurred)."""
    event = orjson.loads(literal)
    event.update(changes)
    return orjson.dumps(event).decode()


def _now(offset: float = 0) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)).isoformat()


# --- a real server in this process ------------------------------------------------------


async def _open(url: str, *, auth: bool = True) -> ClientConnection:
    ws = await connect(url, subprotocols=[Subprotocol("prefect")])
    assert ws.subprotocol == "prefect"
    if auth:
        await ws.send('{"type":"auth","token":null}')
        assert orjson.loads(await ws.recv()) == {"type": "auth_success"}
    return ws


async def _until(check: Callable[[], Awaitable[bool]], timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def _event_ids(db: Database) -> set[str]:
    async with db.read() as conn:
        return {str(i) for i in (await conn.execute(sa.select(t.event.c.id))).scalars()}


async def _stored(db: Database, count: int) -> set[str]:
    async def enough() -> bool:
        return len(await _event_ids(db)) >= count

    await _until(enough)
    return await _event_ids(db)


# --- /api/events/in ---------------------------------------------------------------------


async def test_events_in_stores_events_and_their_resources(ws_api: str, app: FastAPI) -> None:
    db: Database = app.state.db
    ws = await _open(f"{ws_api}/events/in")
    for literal in (PENDING, RUNNING, HEARTBEAT, WORKER_STARTED):
        await ws.send(literal)
    assert await _stored(db, 4) == {
        "01a21a15-486f-73dc-b312-93ae07c41535",
        "01a21a15-4870-7e06-ad9d-d0acae9afd0c",
        "01a21a16-7f6f-7a7e-8d74-ed1c5728e724",
        "01a21a18-9cc9-70ca-86d8-629c75f00b1e",
    }
    await ws.close()

    async with db.read() as conn:
        running = (
            (
                await conn.execute(
                    sa.select(t.event).where(t.event.c.event == "prefect.task-run.Running")
                )
            )
            .mappings()
            .one()
        )
        resources = (
            await conn.execute(
                sa.select(t.event_resource.c.resource_id, t.event_resource.c.resource_role).where(
                    t.event_resource.c.event_id == uuid.UUID("01a21a16-7f6f-7a7e-8d74-ed1c5728e724")
                )
            )
        ).all()
    assert running["resource_id"] == "prefect.task-run.01a21a15-486e-7a0d-8eb3-ab8762137510"
    assert running["occurred"].isoformat() == "2026-11-26T22:58:52.144588+00:00"
    assert running["received"] > running["occurred"]
    assert str(running["follows"]) == "01a21a15-486f-73dc-b312-93ae07c41535"
    assert running["payload"]["validated_state"]["type"] == "RUNNING"
    assert running["related"][0]["prefect.resource.role"] == "flow-run"
    assert sorted(resources) == [
        ("prefect.deployment.d9e52dd1-68c5-4bd3-99dc-75a5cf26c4fe", "deployment"),
        ("prefect.flow-run.01a21a16-6181-7bb1-9039-5112783d4655", ""),
        ("prefect.flow.42e15528-4908-4616-964b-176f21ddf5f5", "flow"),
        ("prefect.tag.auto-scheduled", "tag"),
        ("prefect.tag.cap", "tag"),
    ]


async def test_resent_events_are_stored_once(ws_api: str, app: FastAPI) -> None:
    db: Database = app.state.db
    first = await _open(f"{ws_api}/events/in")
    await first.send(PENDING)
    await first.send(PENDING)  # twice in one flush window
    await _stored(db, 1)
    await first.close()
    # A reconnect re-sends what was not confirmed, after it was already written.
    again = await _open(f"{ws_api}/events/in")
    await again.send(PENDING)
    await again.send(RUNNING)
    assert len(await _stored(db, 2)) == 2
    await again.close()
    await app.state.events.flush()
    assert await _event_ids(db) == {
        "01a21a15-486f-73dc-b312-93ae07c41535",
        "01a21a15-4870-7e06-ad9d-d0acae9afd0c",
    }
    assert app.state.events.duplicates == 2
    async with db.read() as conn:
        count = sa.select(sa.func.count()).select_from(t.event_resource)
        assert (await conn.execute(count)).scalar() == 6


async def test_events_after_a_flush_window_are_stored(ws_api: str, app: FastAPI) -> None:
    db: Database = app.state.db
    ws = await _open(f"{ws_api}/events/in")
    await ws.send(PENDING)
    await _stored(db, 1)
    await asyncio.sleep(0.5)  # well past the 0.2 s window: the flusher is idle again
    await ws.send(RUNNING)
    assert len(await _stored(db, 2)) == 2
    await ws.close()


async def test_malformed_frames_are_skipped(ws_api: str, app: FastAPI) -> None:
    db: Database = app.state.db
    ws = await _open(f"{ws_api}/events/in")
    no_role = orjson.loads(PENDING)
    del no_role["related"][0]["prefect.resource.role"]
    for frame in (
        "not json",
        "[]",
        '{"event": "prefect.x"}',  # no resource
        '{"event": "prefect.x", "resource": {"prefect.resource.name": "no id"}}',
        orjson.dumps({**no_role, "id": str(uuid.uuid4())}).decode(),
        _event(PENDING, occurred="yesterday"),
        _event(PENDING, event="x" * 300),
    ):
        await ws.send(frame)
    await ws.send(HEARTBEAT.encode())  # a binary frame is read the same way
    await ws.send(PENDING)
    assert await _stored(db, 2) == {
        "01a21a16-7f6f-7a7e-8d74-ed1c5728e724",
        "01a21a15-486f-73dc-b312-93ae07c41535",
    }
    await ws.send(RUNNING)  # the socket is still alive
    assert len(await _stored(db, 3)) == 3
    await ws.close()


async def test_first_frame_must_be_auth(ws_api: str) -> None:
    ws = await _open(f"{ws_api}/events/in", auth=False)
    await ws.send(PENDING)
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "Expected 'auth' message")


async def test_legacy_mode_has_no_handshake(ws_api: str, app: FastAPI) -> None:
    async with connect(f"{ws_api}/events/in") as ws:
        assert ws.subprotocol is None
        await ws.send(PENDING)
        assert await _stored(app.state.db, 1) == {"01a21a15-486f-73dc-b312-93ae07c41535"}


# --- /api/events/out --------------------------------------------------------------------


async def _next_event(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    frame = orjson.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert frame["type"] == "event"
    event: dict[str, Any] = frame["event"]
    return event


async def test_events_out_backfills_then_streams_only_matches(ws_api: str, app: FastAPI) -> None:
    db: Database = app.state.db
    store: EventStore = app.state.events

    async def emit_cancelling(**extra: Any) -> dict[str, Any]:
        # What the lead's set_state does: insert in its transaction, publish after commit.
        record = new_event(
            "prefect.flow-run.Cancelling", CANCELLING_RESOURCE, CANCELLING_RELATED, **extra
        )

        def job(conn: sa.Connection) -> list[dict[str, Any]]:
            return insert_events(conn, [record])

        store.bus.publish(await db.write(job))
        return record

    old = await emit_cancelling(occurred=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    recent = await emit_cancelling()

    out = await _open(f"{ws_api}/events/out")
    await out.send(CANCELLING_FILTER % (_now(-60), _now(365 * 86400)))
    backfilled = await _next_event(out)
    assert backfilled["id"] == str(recent["id"])  # `old` is before `since`
    assert backfilled["received"].endswith("Z")
    assert backfilled["resource"] == CANCELLING_RESOURCE

    # Live: a client event that does not match, then a server event that does.
    await _await_subscriber(store)
    ingest = await _open(f"{ws_api}/events/in")
    await ingest.send(_event(HEARTBEAT, occurred=_now()))
    await _stored(db, 3)
    live = await emit_cancelling()
    event = await _next_event(out)
    assert event["id"] == str(live["id"])
    assert event["event"] == "prefect.flow-run.Cancelling"
    assert event["related"] == CANCELLING_RELATED
    keys = {"id", "occurred", "received", "event", "resource", "related", "payload", "follows"}
    assert set(event) == keys
    with pytest.raises(TimeoutError):
        await _next_event(out, timeout=0.5)
    assert old["id"] != live["id"]
    await ingest.close()
    await out.close()
    await _until(lambda: _no_subscribers(store))


async def test_events_out_delivers_client_events(ws_api: str, app: FastAPI) -> None:
    store: EventStore = app.state.events
    out = await _open(f"{ws_api}/events/out")
    frame = {
        "type": "filter",
        "filter": {
            "occurred": {"since": _now(-60), "until": _now(3600)},
            "related": {"role": ["flow-run"]},
            "order": "DESC",
        },
    }
    await out.send(orjson.dumps(frame).decode())
    await _await_subscriber(store)
    ingest = await _open(f"{ws_api}/events/in")
    await ingest.send(_event(WORKER_STARTED, occurred=_now()))  # no flow-run related
    await ingest.send(_event(RUNNING, occurred=_now()))
    event = await _next_event(out)
    assert event["event"] == "prefect.task-run.Running"
    assert event["payload"]["task_run"]["run_count"] == 1
    await ingest.close()
    await out.close()


async def test_events_out_wants_a_filter_frame(ws_api: str) -> None:
    out = await _open(f"{ws_api}/events/out")
    await out.send('{"type":"hello"}')
    with pytest.raises(ConnectionClosed) as closed:
        await out.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008


async def _await_subscriber(store: EventStore) -> None:
    async def subscribed() -> bool:
        return store.bus.subscribers > 0

    await _until(subscribed)


async def _no_subscribers(store: EventStore) -> bool:
    return store.bus.subscribers == 0


# --- POST /api/events/filter ------------------------------------------------------------


async def _ingest(app: FastAPI, *literals: str) -> None:
    store: EventStore = app.state.events
    await store.add(
        [Event.model_validate_json(text).record(dt.datetime.now(dt.UTC)) for text in literals]
    )
    await store.flush()


async def test_filter_pages_like_event_page(client: httpx.AsyncClient, app: FastAPI) -> None:
    await _ingest(app, PENDING, RUNNING, HEARTBEAT, WORKER_STARTED)
    body = {
        "filter": {
            "occurred": {"since": "2026-11-26T00:00:00Z", "until": "2026-11-27T00:00:00Z"},
            "any_resource": {"id_prefix": ["prefect.flow-run."]},
            "order": "DESC",
        },
        "limit": 2,
    }
    response = await client.post("/api/events/filter", json=body)
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 3
    assert [e["event"] for e in page["events"]] == [
        "prefect.flow-run.heartbeat",
        "prefect.task-run.Running",
    ]
    assert page["next_page"].startswith("http://baton/api/events/filter/next?page-token=")

    second = (await client.get(page["next_page"])).json()
    assert [e["event"] for e in second["events"]] == ["prefect.task-run.Pending"]
    assert second["total"] == 3
    assert second["next_page"] is None

    bad = await client.get("/api/events/filter/next", params={"page-token": "garbage"})
    assert bad.status_code == 422

    everything = (await client.post("/api/events/filter", json={"filter": None})).json()
    assert everything["total"] == 4


FILTERS: list[dict[str, Any]] = [
    {},
    {"event": {"prefix": ["prefect.task-run."]}},
    {
        "event": {
            "exclude_prefix": ["prefect.task-run."],
            "exclude_name": ["prefect.worker.started"],
        }
    },
    {"event": {"name": ["prefect.task-run.Running", "prefect.worker.started"]}},
    {"resource": {"id": ["prefect.task-run.01a21a15-486e-7a0d-8eb3-ab8762137510"]}},
    {"resource": {"id_prefix": ["prefect.worker."]}},
    {"resource": {"labels": {"prefect.state-type": ["RUNNING", "PENDING"]}}},
    {"resource": {"labels": {"prefect.resource.name": "add-*"}}},
    {"resource": {"labels": {"prefect.version": "!3.8*"}}},
    {"related": {"role": ["tag"]}},
    {"related": {"id": ["prefect.flow.d5a6c4bd-94e3-4bad-816b-977747e2df5c"], "role": ["flow"]}},
    {"related": {"id": ["prefect.flow.d5a6c4bd-94e3-4bad-816b-977747e2df5c"], "role": ["tag"]}},
    {"related": {"labels": {"prefect.resource.name": "positive-*"}}},
    {"related": {"role": ["flow"], "labels": {"prefect.resource.name": "served-flow"}}},
    {
        "related": {
            "resources_in_roles": [
                ["prefect.tag.cap", "tag"],
                ["prefect.tag.auto-scheduled", "tag"],
            ]
        }
    },
    {"related": {"resources_in_roles": [["prefect.tag.cap", "tag"], ["prefect.tag.cap", "flow"]]}},
    {"related": [{"role": ["flow-run"]}, {"labels": {"prefect.resource.id": "prefect.flow.*"}}]},
    {"any_resource": {"id": ["prefect.work-pool.370fec5b-2dbc-4c5f-89f0-70759ca26015"]}},
    {"any_resource": {"labels": {"prefect.resource.name": "p1"}}},
    {"any_resource": {"labels": {"prefect.resource.name": "convivial-malamute"}}},
    {"any_resource": [{"id_prefix": ["prefect.flow."]}, {"id_prefix": ["prefect.tag."]}]},
    {"id": {"id": ["01a21a15-4870-7e06-ad9d-d0acae9afd0c"]}},
    {"id": {"id": []}},
    {"occurred": {"since": "2026-11-26T22:58:52.144Z", "until": "2026-11-26T23:00:12Z"}},
    {"text": {"query": "malamute"}},
    {"text": {"query": "PENDING -running"}},
    {"text": {"query": '"auto-scheduled" 100%'}},
]


@pytest.mark.parametrize("order", ["ASC", "DESC"])
async def test_sql_and_live_matching_agree(app: FastAPI, order: str) -> None:
    literals = (PENDING, RUNNING, HEARTBEAT, WORKER_STARTED)
    await _ingest(app, *literals)
    records = [Event.model_validate_json(text).record(dt.datetime.now(dt.UTC)) for text in literals]
    db: Database = app.state.db
    for raw in FILTERS:
        event_filter = EventFilter.model_validate({**copy.deepcopy(raw), "order": order})
        expected = [str(r["id"]) for r in records if matches(event_filter, r)]
        async with db.read() as conn:
            stored = await read_events(conn, event_filter, 100)
        ids = [str(r["id"]) for r in stored]
        assert sorted(ids) == sorted(expected), raw
        occurred = [r["occurred"] for r in stored]
        assert occurred == sorted(occurred, reverse=order == "DESC"), raw
    nothing = EventFilter.model_validate({"event": {"prefix": ["nothing."]}})
    assert not any(matches(nothing, r) for r in records)


# --- the store ---------------------------------------------------------------------------


def _records(n: int, name: str = "test.thing") -> list[dict[str, Any]]:
    return [new_event(name, {"prefect.resource.id": f"test.thing.{i}"}) for i in range(n)]


async def test_store_writes_in_batches_and_close_flushes(app: FastAPI) -> None:
    db: Database = app.state.db
    seen: list[int] = []

    def consumer(conn: sa.Connection, events: list[dict[str, Any]]) -> None:
        seen.append(len(events))

    store = EventStore(db, consumers=[consumer], flush_interval=60, max_batch=100)
    await store.start()
    records = _records(250)
    for record in records:
        await store.add([record])
    await _until(lambda: _equals(lambda: store.writes, 2))  # two full batches, at once
    assert store.buffered == 50  # the rest waits for its window
    assert len(await _event_ids(db)) == 200

    await store.add(records[:10])  # re-sent: not new, not consumed again
    await store.close()
    assert store.writes == 3
    assert len(await _event_ids(db)) == 250
    assert seen == [100, 100, 50]
    assert store.duplicates == 10


async def test_store_flushes_on_a_timer(app: FastAPI) -> None:
    db: Database = app.state.db
    store = EventStore(db, flush_interval=0.1)
    await store.start()
    for record in _records(20):
        await store.add([record])
        await asyncio.sleep(0)
    await _until(lambda: _equals(lambda: store.stored, 20))
    assert store.writes == 1  # all 20 in the one window
    await store.close()


async def test_one_bad_event_or_consumer_loses_only_itself(app: FastAPI) -> None:
    db: Database = app.state.db
    consumed: list[str] = []

    def picky(conn: sa.Connection, events: list[dict[str, Any]]) -> None:
        if any(e["event"] == "test.poison" for e in events):
            raise ValueError("cannot handle it")
        consumed.extend(e["event"] for e in events)

    store = EventStore(db, consumers=[picky], flush_interval=60)
    await store.start()
    broken = new_event("test.broken", {"prefect.resource.id": "x"})
    broken["resource"] = {}  # no resource id: the database write fails
    good = _records(3)
    poison = new_event("test.poison", {"prefect.resource.id": "p"})
    await store.add([good[0], broken, good[1], poison, good[2]])
    await store.close()
    assert store.dropped == 1
    assert await _event_ids(db) == {str(e["id"]) for e in [*good, poison]}
    assert consumed == ["test.thing"] * 3  # the poison event is stored, not consumed


async def _equals(value: Callable[[], int], expected: int) -> bool:
    return value() == expected


# --- the whole program ---------------------------------------------------------------


async def test_a_stopping_server_stores_every_confirmed_event(
    tmp_path: Path, settings: Settings, database_url: str
) -> None:
    """Events the client's ping/pong checkpoint confirmed are stored even when the server
    is stopped right after: shutdown flushes the store."""
    count = 2500
    env = baton_env(tmp_path / "server-home", **{DATABASE_URL_VAR: database_url})
    with baton_server(env) as server:
        url = server.api_url.replace("http://", "ws://")
        ws = await _open(f"{url}/events/in")
        for _ in range(count):
            await ws.send(_event(HEARTBEAT, id=str(uuid.uuid4())))
        await (await ws.ping())  # the client's checkpoint: every frame before it was read
        _, err = server.stop()
    assert "Traceback" not in err
    db = Database(settings)
    await db.start()
    try:
        assert len(await _event_ids(db)) == count
    finally:
        await db.close()
