"""Logs: batches posted as the client's log handler sends them, and filtered reads."""

from __future__ import annotations

import uuid

import httpx
import orjson
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from baton.core.logs import QUICK_BATCH
from baton.db import tables as t
from baton.schemas.logs import MAX_RECORDS

FLOW_RUN = "616a952c-4d2c-41ad-ac25-29abe0b17c1e"
TASK_RUN = "01a21a15-486e-7a0d-8eb3-ab8762137510"

# Records as the 3.9.1 client's APILogWorker joins them: one JSON array, built from bytes.
RECORDS = [
    b'{"name":"prefect.flow_runs","level":20,"message":"Beginning flow run \'positive-hawk\' '
    b'for flow \'my-flow\'","timestamp":"2026-11-26T22:58:52.101000Z",'
    b'"flow_run_id":"616a952c-4d2c-41ad-ac25-29abe0b17c1e","task_run_id":null}',
    b'{"name":"prefect.task_runs","level":20,"message":"Finished in state Completed()",'
    b'"timestamp":"2026-11-26T22:58:52.163793Z","flow_run_id":"616a952c-4d2c-41ad-ac25-'
    b'29abe0b17c1e","task_run_id":"01a21a15-486e-7a0d-8eb3-ab8762137510"}',
    b'{"name":"prefect.flow_runs","level":40,"message":"Connection TIMEOUT after 100% of '
    b'retries","timestamp":"2026-11-26T22:58:53.000000Z","flow_run_id":"616a952c-4d2c-41ad-'
    b'ac25-29abe0b17c1e","task_run_id":null}',
    b'{"name":"prefect.flow_runs","level":10,"message":"debug: x_y","timestamp":'
    b'"2026-11-26T22:58:54.000000Z","flow_run_id":"616a952c-4d2c-41ad-ac25-29abe0b17c1e",'
    b'"task_run_id":null}',
]
LOG_KEYS = {
    "id",
    "created",
    "updated",
    "name",
    "level",
    "message",
    "timestamp",
    "flow_run_id",
    "task_run_id",
}


async def _post(client: httpx.AsyncClient, records: list[bytes]) -> httpx.Response:
    return await client.post(
        "/api/logs/",
        content=b"[" + b",".join(records) + b"]",
        headers={"Content-Type": "application/json"},
    )


async def _filter(client: httpx.AsyncClient, **body: object) -> list[dict[str, object]]:
    response = await client.post("/api/logs/filter", json=body)
    assert response.status_code == 200, response.text
    logs: list[dict[str, object]] = response.json()
    return logs


async def test_a_batch_is_stored_and_answered_201_empty(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await _post(client, RECORDS)
    assert response.status_code == 201
    assert response.content == b""

    async with app.state.db.read() as conn:
        rows = (await conn.execute(sa.select(t.log).order_by(t.log.c.timestamp))).mappings().all()
    assert [(r["name"], r["level"]) for r in rows] == [
        ("prefect.flow_runs", 20),
        ("prefect.task_runs", 20),
        ("prefect.flow_runs", 40),
        ("prefect.flow_runs", 10),
    ]
    assert {str(r["flow_run_id"]) for r in rows} == {FLOW_RUN}
    assert str(rows[1]["task_run_id"]) == TASK_RUN
    assert rows[0]["timestamp"].isoformat() == "2026-11-26T22:58:52.101000+00:00"
    assert len({r["id"] for r in rows}) == 4


async def test_a_large_batch_is_stored_off_the_event_loop(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """A batch the size clients usually send is stored on the event loop; a larger one in
    the writer's thread, so the loop is not held while thousands of rows go in. With the
    `quick_writes` fast path off, both go to the thread."""
    writer = app.state.db._writer
    if writer is None:
        pytest.skip("PostgreSQL has no writer thread")
    quick = "quick_writes" in app.state.fast_paths
    on_loop = writer.inline_batches
    assert (await _post(client, [RECORDS[0]] * QUICK_BATCH)).status_code == 201
    assert writer.inline_batches == on_loop + quick
    assert (await _post(client, [RECORDS[0]] * (QUICK_BATCH + 1))).status_code == 201
    assert writer.inline_batches == on_loop + quick
    assert len(await _filter(client, limit=QUICK_BATCH * 2 + 1)) == QUICK_BATCH * 2 + 1


async def test_empty_batch(client: httpx.AsyncClient) -> None:
    response = await _post(client, [])
    assert response.status_code == 201


async def test_filter_like_the_cli_pages(client: httpx.AsyncClient) -> None:
    await _post(client, RECORDS)
    logs_filter = {"operator": "and_", "flow_run_id": {"any_": [FLOW_RUN]}}
    # `prefect flow-run logs`: limit null first, then offset = rows seen.
    first = await _filter(client, logs=logs_filter, limit=None, offset=0, sort="TIMESTAMP_ASC")
    assert len(first) == 4
    assert set(first[0]) == LOG_KEYS
    assert first[0]["timestamp"] == "2026-11-26T22:58:52.101000Z"
    assert first[0]["task_run_id"] is None
    assert [log["level"] for log in first] == [20, 20, 40, 10]
    assert await _filter(client, logs=logs_filter, limit=10, offset=4) == []

    paged = await _filter(client, logs=logs_filter, limit=2, offset=1, sort="TIMESTAMP_DESC")
    assert [log["level"] for log in paged] == [40, 20]


async def test_filter_criteria(client: httpx.AsyncClient) -> None:
    await _post(client, RECORDS)

    async def levels(logs: dict[str, object]) -> list[object]:
        return [log["level"] for log in await _filter(client, logs=logs)]

    assert await levels({"level": {"ge_": 20, "le_": 30}}) == [20, 20]
    assert await levels({"timestamp": {"after_": "2026-11-26T22:58:53Z"}}) == [40, 10]
    assert await levels({"timestamp": {"before_": "2026-11-26T23:58:52.2+01:00"}}) == [20, 20]
    assert await levels({"task_run_id": {"any_": [TASK_RUN]}}) == [20]
    assert await levels({"task_run_id": {"is_null_": True}}) == [20, 40, 10]
    assert await levels({"task_run_id": {"is_null_": False}}) == [20]
    assert await levels({"flow_run_id": {"any_": [str(uuid.uuid4())]}}) == []
    assert await levels(
        {"operator": "or_", "level": {"ge_": 40}, "task_run_id": {"any_": [TASK_RUN]}}
    ) == [20, 40]
    assert await levels({"name": {"any_": ["prefect.task_runs"]}}) == [20]


async def test_text_search(client: httpx.AsyncClient) -> None:
    await _post(client, RECORDS)

    async def messages(query: str) -> list[object]:
        found = await _filter(client, logs={"text": {"query": query}})
        return [log["message"] for log in found]

    timeout = "Connection TIMEOUT after 100% of retries"
    assert await messages("timeout") == [timeout]  # case-insensitive
    assert await messages("100%") == [timeout]  # LIKE wildcards are literal
    assert await messages("x_y") == ["debug: x_y"]
    assert await messages("xay") == []
    assert await messages('"after 100%"') == [timeout]
    assert await messages("timeout debug") == [timeout, "debug: x_y"]  # any term
    assert await messages("+flow +timeout") == [timeout]  # every term
    assert len(await messages("task_runs")) == 1  # the logger name is searched too
    assert len(await messages("prefect -timeout -debug")) == 2


async def test_count(client: httpx.AsyncClient) -> None:
    await _post(client, RECORDS)
    response = await client.post("/api/logs/count", json={"logs": {"level": {"ge_": 20}}})
    assert response.status_code == 200
    assert response.json() == 3
    assert (await client.post("/api/logs/count", json={})).json() == 4


async def test_limit_above_the_maximum_is_refused_as_the_cli_expects(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/logs/filter", json={"limit": 100_000, "offset": 0})
    assert response.status_code == 422
    assert "Invalid limit" in response.text


async def test_bad_records_name_the_field(client: httpx.AsyncClient, app: FastAPI) -> None:
    bad = b'{"name":"x","level":"loud","message":"m","timestamp":"2026-11-26T22:58:52Z"}'
    response = await _post(client, [RECORDS[0], bad])
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "body.1.level"

    response = await client.post(
        "/api/logs/", content=b"[{", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]

    response = await client.post("/api/logs/", json={"name": "not-a-list"})
    assert response.status_code == 422

    async with app.state.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.log))).scalar() == 0


async def test_oversized_batches_are_refused(client: httpx.AsyncClient) -> None:
    record = {"name": "n", "level": 20, "message": "", "timestamp": "2026-11-26T22:58:52Z"}
    response = await client.post("/api/logs/", content=orjson.dumps([record] * (MAX_RECORDS + 1)))
    assert response.status_code == 413
    assert str(MAX_RECORDS) in response.json()["detail"]

    huge = {**record, "message": "x" * (9 * 1024 * 1024)}
    response = await client.post("/api/logs/", content=orjson.dumps([huge]))
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


async def test_awkward_text_is_stored(client: httpx.AsyncClient, app: FastAPI) -> None:
    record = {
        "name": "n" * 300,
        "level": 20,
        "message": "nul \x00 and ünïcode",
        "timestamp": "2026-11-26T22:58:52",  # naive: taken as UTC
    }
    response = await client.post("/api/logs/", json=[record])
    assert response.status_code == 201
    (log,) = await _filter(client)
    assert log["message"] == "nul \ufffd and ünïcode"
    assert log["name"] == "n" * 255
    assert log["timestamp"] == "2026-11-26T22:58:52Z"
