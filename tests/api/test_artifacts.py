"""Artifacts: create (even for a task run the server has not seen), read, update, delete,
filter and count; the per-key collections of `latest/…` and `{key}/latest`, kept right
when the latest artifact is deleted. Bodies are those the Prefect 3.9.1 client sends."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from baton.db import tables as t

ARTIFACT_KEYS = {
    "id",
    "created",
    "updated",
    "key",
    "type",
    "description",
    "data",
    "metadata_",
    "flow_run_id",
    "task_run_id",
}
COLLECTION_KEYS = ARTIFACT_KEYS | {"latest_id"}

FLOW_RUN = "ee7a8c19-71bb-4bda-8316-e3e0cc953171"
TASK_RUN = "01a21a15-ea69-7d6e-8b6b-8a2e98b467a8"  # client-generated, never recorded


async def _artifacts(app: FastAPI) -> dict[str, dict[str, Any]]:
    async with app.state.db.read() as conn:
        rows = (await conn.execute(sa.select(t.artifact))).mappings().all()
    return {str(row["id"]): dict(row) for row in rows}


async def _collections(app: FastAPI) -> dict[str, tuple[str, str]]:
    """key → (collection id, latest artifact id)."""
    async with app.state.db.read() as conn:
        rows = (await conn.execute(sa.select(t.artifact_collection))).mappings().all()
    return {row["key"]: (str(row["id"]), str(row["latest_id"])) for row in rows}


async def _create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {
        "key": None,
        "type": "markdown",
        "description": None,
        "data": "# Report",
        "flow_run_id": FLOW_RUN,
        "task_run_id": None,
        **fields,
    }
    response = await client.post("/api/artifacts/", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _latest(client: httpx.AsyncClient, body: dict[str, Any] | None) -> list[Any]:
    response = await client.post("/api/artifacts/latest/filter", json=body)
    assert response.status_code == 200, response.text
    rows: list[Any] = response.json()
    return rows


async def test_create_flow_and_task_artifacts(client: httpx.AsyncClient, app: FastAPI) -> None:
    # What `create_markdown_artifact` sends from a flow, then from a task.
    response = await client.post(
        "/api/artifacts/",
        json={
            "key": "flow-report",
            "type": "markdown",
            "description": "from flow",
            "data": "# Flow report",
            "flow_run_id": FLOW_RUN,
            "task_run_id": None,
        },
    )
    assert response.status_code == 201
    flow_artifact = response.json()
    assert set(flow_artifact) == ARTIFACT_KEYS
    assert uuid.UUID(flow_artifact["id"])
    assert flow_artifact["created"].endswith("Z")
    assert flow_artifact["key"] == "flow-report"
    assert flow_artifact["data"] == "# Flow report"
    assert flow_artifact["metadata_"] is None
    assert flow_artifact["flow_run_id"] == FLOW_RUN
    assert flow_artifact["task_run_id"] is None

    response = await client.post(
        "/api/artifacts/",
        json={
            "key": "task-report",
            "type": "markdown",
            "description": "from task",
            "data": "# Task report",
            "flow_run_id": FLOW_RUN,
            "task_run_id": TASK_RUN,
        },
    )
    assert response.status_code == 201
    task_artifact = response.json()
    assert task_artifact["task_run_id"] == TASK_RUN

    rows = await _artifacts(app)
    assert set(rows) == {flow_artifact["id"], task_artifact["id"]}
    row = rows[task_artifact["id"]]
    assert (row["key"], row["type"], row["description"], row["data"]) == (
        "task-report",
        "markdown",
        "from task",
        "# Task report",
    )
    assert (str(row["flow_run_id"]), str(row["task_run_id"])) == (FLOW_RUN, TASK_RUN)
    collections = await _collections(app)
    assert {key: latest for key, (_, latest) in collections.items()} == {
        "flow-report": flow_artifact["id"],
        "task-report": task_artifact["id"],
    }

    read = await client.get(f"/api/artifacts/{flow_artifact['id']}")
    assert read.status_code == 200
    assert read.json() == flow_artifact


@pytest.mark.parametrize(
    "data", ["text", {"rows": [[1, 2]], "columns": ["a", "b"]}, [1, 2], 7, 0.5, None]
)
async def test_data_is_any_json(client: httpx.AsyncClient, app: FastAPI, data: Any) -> None:
    created = await _create(client, data=data, metadata_={"source": "test"})
    assert created["data"] == data
    assert created["metadata_"] == {"source": "test"}
    assert (await _artifacts(app))[created["id"]]["data"] == data
    assert (await client.get(f"/api/artifacts/{created['id']}")).json()["data"] == data


async def test_keyless_artifacts_have_no_collection(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await client.post("/api/artifacts/", json={"type": "result", "data": {"x": 1}})
    assert response.status_code == 201
    artifact = response.json()
    assert artifact["key"] is None
    assert artifact["flow_run_id"] is None
    assert list(await _artifacts(app)) == [artifact["id"]]
    assert await _collections(app) == {}
    assert await _latest(client, None) == []


async def test_long_metadata_values_are_cut(client: httpx.AsyncClient) -> None:
    created = await _create(client, metadata_={"long": "x" * 600, "short": "y"})
    assert created["metadata_"] == {"long": "x" * 500 + "...", "short": "y"}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"key": "Flow-Report"}, "body.key"),
        ({"key": "flow_report"}, "body.key"),
        ({"key": "flow report"}, "body.key"),
        ({"key": ""}, "body.key"),
        ({"key": "k" * 256}, "body.key"),
        ({"flow_run_id": "not-a-uuid"}, "body.flow_run_id"),
        ({"metadata_": {"n": 1}}, "body.metadata_.n"),
        ({"data": {"n": 2**64}}, "body.data.n"),
    ],
)
async def test_bad_create_is_422(
    client: httpx.AsyncClient, app: FastAPI, body: dict[str, Any], loc: str
) -> None:
    response = await client.post("/api/artifacts/", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == loc
    assert await _artifacts(app) == {}


async def test_unknown_id_is_404(client: httpx.AsyncClient) -> None:
    missing = uuid.uuid4()
    for response in (
        await client.get(f"/api/artifacts/{missing}"),
        await client.patch(f"/api/artifacts/{missing}", json={"description": "x"}),
        await client.delete(f"/api/artifacts/{missing}"),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == "Artifact not found."
    response = await client.get("/api/artifacts/no-such-key/latest")
    assert response.status_code == 404
    assert response.json()["detail"] == "No artifact with the key 'no-such-key'."
    response = await client.get("/api/artifacts/not-a-uuid")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "path.artifact_id"


async def test_update(client: httpx.AsyncClient, app: FastAPI) -> None:
    created = await _create(client, key="progress", description="start", data="0%")
    url = f"/api/artifacts/{created['id']}"

    response = await client.patch(url, json={"data": "50%"})
    assert response.status_code == 204
    assert response.content == b""
    row = (await _artifacts(app))[created["id"]]
    assert (row["data"], row["description"]) == ("50%", "start")  # only what was sent

    assert (
        await client.patch(url, json={"description": "done", "data": "100%"})
    ).status_code == 204
    read = (await client.get(url)).json()
    assert (read["data"], read["description"]) == ("100%", "done")
    assert read["created"] == created["created"]
    assert read["updated"] > created["updated"]

    # The collection shows the latest artifact's current fields.
    [collection] = await _latest(client, None)
    assert (collection["data"], collection["description"]) == ("100%", "done")
    assert collection["updated"] == read["updated"]


async def test_filter_and_count(client: httpx.AsyncClient) -> None:
    other_run = str(uuid.uuid4())
    a1 = await _create(client, key="alpha", type="markdown")
    a2 = await _create(client, key="alpha", type="table", task_run_id=TASK_RUN)
    b1 = await _create(client, key="beta", type="markdown", flow_run_id=other_run)
    n1 = await _create(client, type="result", flow_run_id=other_run)

    async def ids(body: dict[str, Any] | None) -> list[str]:
        response = await client.post("/api/artifacts/filter", json=body)
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()]

    async def count(body: dict[str, Any] | None) -> int:
        response = await client.post("/api/artifacts/count", json=body)
        assert response.status_code == 200, response.text
        count: int = response.json()
        return count

    # `prefect artifact inspect alpha`
    response = await client.post(
        "/api/artifacts/filter",
        json={
            "artifacts": {"key": {"any_": ["alpha"]}},
            "flow_runs": None,
            "task_runs": None,
            "limit": 10,
            "offset": 0,
            "sort": "UPDATED_DESC",
        },
    )
    assert response.status_code == 200
    assert response.json() == [a2, a1]

    assert await ids(None) == [n1["id"], b1["id"], a2["id"], a1["id"]]  # CREATED_DESC
    assert await ids({"sort": "ID_DESC"}) == sorted(await ids(None), reverse=True)
    assert await ids({"sort": "KEY_ASC"}) == [a2["id"], a1["id"], b1["id"], n1["id"]]
    assert await ids({"sort": "KEY_DESC"}) == [b1["id"], a2["id"], a1["id"], n1["id"]]
    assert await ids({"sort": "KEY_ASC", "limit": 2, "offset": 1}) == [a1["id"], b1["id"]]

    assert await ids({"artifacts": {"id": {"any_": [a1["id"], n1["id"]]}}}) == [n1["id"], a1["id"]]
    assert await ids({"artifacts": {"key": {"like_": "et"}}}) == [b1["id"]]
    assert await ids({"artifacts": {"key": {"exists_": False}}}) == [n1["id"]]
    assert await ids({"artifacts": {"key": {"exists_": True}, "type": {"any_": ["markdown"]}}}) == [
        b1["id"],
        a1["id"],
    ]
    assert await ids({"artifacts": {"type": {"not_any_": ["markdown", "result"]}}}) == [a2["id"]]
    assert await ids({"artifacts": {"flow_run_id": {"any_": [other_run]}}}) == [
        n1["id"],
        b1["id"],
    ]
    assert await ids({"artifacts": {"task_run_id": {"any_": [TASK_RUN]}}}) == [a2["id"]]
    assert await ids({"flow_runs": {"id": {"any_": [FLOW_RUN]}}}) == [a2["id"], a1["id"]]
    assert await ids({"task_runs": {"id": {"any_": [TASK_RUN]}}}) == [a2["id"]]
    # Other run criteria are accepted; only `id.any_` applies.
    assert await ids({"flow_runs": {"operator": "and_", "name": {"any_": ["x"]}}}) == await ids(
        None
    )
    either = {
        "artifacts": {"operator": "or_", "key": {"any_": ["beta"]}, "type": {"any_": ["table"]}}
    }
    assert await ids(either) == [b1["id"], a2["id"]]

    assert await count(None) == 4
    assert await count({"artifacts": {"key": {"any_": ["alpha"]}}}) == 2
    assert await count({"flow_runs": {"id": {"any_": [other_run]}}}) == 2

    for body, loc in (
        ({"sort": "NAME_ASC"}, "body.sort"),
        ({"limit": -1}, "body.limit"),
        ({"artifacts": {"id": {"any_": ["nope"]}}}, "body.artifacts.id.any_.0"),
    ):
        response = await client.post("/api/artifacts/filter", json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["loc"] == loc


async def test_latest_per_key(client: httpx.AsyncClient, app: FastAPI) -> None:
    r1 = await _create(client, key="report", data="v1")
    r2 = await _create(client, key="report", data="v2", task_run_id=TASK_RUN)
    r3 = await _create(client, key="report", data="v3", type="table")
    other = await _create(client, key="another", data="a1")
    await _create(client, data="keyless")

    # `prefect artifact ls`
    rows = await _latest(
        client,
        {
            "artifacts": None,
            "flow_runs": None,
            "task_runs": None,
            "limit": 100,
            "offset": 0,
            "sort": "KEY_ASC",
        },
    )
    assert [set(row) for row in rows] == [COLLECTION_KEYS, COLLECTION_KEYS]
    assert [(row["key"], row["latest_id"], row["data"]) for row in rows] == [
        ("another", other["id"], "a1"),
        ("report", r3["id"], "v3"),
    ]
    report = rows[1]
    assert report["id"] not in {r1["id"], r2["id"], r3["id"]}  # the collection's own id
    assert report["type"] == "table"
    assert report["task_run_id"] is None
    assert report["created"] == r1["created"]  # the collection is as old as its key
    collections = await _collections(app)
    assert collections == {
        "report": (report["id"], r3["id"]),
        "another": (rows[0]["id"], other["id"]),
    }

    latest = await client.get("/api/artifacts/report/latest")
    assert latest.status_code == 200
    assert latest.json() == r3

    assert [row["key"] for row in await _latest(client, {"sort": "KEY_DESC"})] == [
        "report",
        "another",
    ]
    assert [row["key"] for row in await _latest(client, None)] == ["another", "report"]
    only_tables = {"artifacts": {"type": {"any_": ["table"]}}}
    assert [row["key"] for row in await _latest(client, only_tables)] == ["report"]
    by_latest = {"artifacts": {"latest_id": {"any_": [other["id"]]}}}
    assert [row["key"] for row in await _latest(client, by_latest)] == ["another"]
    by_key = {"artifacts": {"key": {"like_": "rep"}}}
    assert [row["key"] for row in await _latest(client, by_key)] == ["report"]
    by_run = {"flow_runs": {"id": {"any_": [FLOW_RUN]}}, "sort": "KEY_ASC"}
    assert [row["key"] for row in await _latest(client, by_run)] == ["another", "report"]
    assert (
        await _latest(client, {"task_runs": {"id": {"any_": [TASK_RUN]}}}) == []
    )  # r2 is not latest

    count = await client.post("/api/artifacts/latest/count", json={})
    assert (count.status_code, count.json()) == (200, 2)
    count = await client.post("/api/artifacts/latest/count", json=only_tables)
    assert count.json() == 1

    # Deleting an older version leaves the collection alone.
    assert (await client.delete(f"/api/artifacts/{r1['id']}")).status_code == 204
    assert (await _collections(app))["report"] == (report["id"], r3["id"])

    # Deleting the latest moves the collection to the next latest.
    response = await client.delete(f"/api/artifacts/{r3['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert (await _collections(app))["report"] == (report["id"], r2["id"])
    [moved] = await _latest(client, {"artifacts": {"key": {"any_": ["report"]}}})
    assert (moved["id"], moved["latest_id"], moved["data"]) == (report["id"], r2["id"], "v2")
    assert moved["task_run_id"] == TASK_RUN
    assert (await client.get("/api/artifacts/report/latest")).json() == r2

    # Deleting the last artifact of a key removes its collection.
    assert (await client.delete(f"/api/artifacts/{r2['id']}")).status_code == 204
    assert set(await _collections(app)) == {"another"}
    assert [row["key"] for row in await _latest(client, None)] == ["another"]
    assert (await client.get("/api/artifacts/report/latest")).status_code == 404
    assert (await client.delete(f"/api/artifacts/{r2['id']}")).status_code == 404

    # A new artifact under the old key starts a new collection.
    r4 = await _create(client, key="report", data="v4")
    collections = await _collections(app)
    assert collections["report"][1] == r4["id"]
    assert collections["report"][0] != report["id"]
    assert len(await _artifacts(app)) == 3  # another, keyless, r4
