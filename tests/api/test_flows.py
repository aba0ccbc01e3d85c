"""Flows: POST is an upsert by name (201 new, 200 existing); GET by id."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from baton.db import tables as t


async def test_create_then_upsert_returns_the_same_flow(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    # The body the Prefect 3.9.1 client sends.
    first = await client.post("/api/flows/", json={"name": "my-flow", "tags": [], "labels": {}})
    assert first.status_code == 201
    flow = first.json()
    assert flow["name"] == "my-flow"
    assert set(flow) == {"id", "created", "updated", "name", "tags", "labels"}
    assert uuid.UUID(flow["id"])
    assert flow["created"].endswith("Z")

    again = await client.post("/api/flows/", json={"name": "my-flow", "tags": ["x"], "labels": {}})
    assert again.status_code == 200
    assert again.json()["id"] == flow["id"]

    async with app.state.db.read() as conn:
        rows = (await conn.execute(sa.select(t.flow.c.id, t.flow.c.name))).all()
    assert [(str(r.id), r.name) for r in rows] == [(flow["id"], "my-flow")]


async def test_read_flow(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/flows/", json={"name": "reader", "tags": ["a"]})).json()
    response = await client.get(f"/api/flows/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


async def test_unknown_flow_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/flows/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["detail"] == "Flow not found"


async def test_bad_names_are_refused(client: httpx.AsyncClient) -> None:
    for body, loc in (
        ({"name": ""}, "body.name"),
        ({"name": "a/b"}, "body.name"),
        ({"tags": []}, "body.name"),
        ({"name": "ok", "tags": "not-a-list"}, "body.tags"),
    ):
        response = await client.post("/api/flows/", json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["loc"] == loc


async def test_filter_count_by_name_update_delete(client: httpx.AsyncClient) -> None:
    ids = {}
    for name in ("alpha", "beta", "gamma"):
        ids[name] = (await client.post("/api/flows/", json={"name": name, "tags": [name]})).json()[
            "id"
        ]
    # The CLI's `deployment ls` / `flow-run ls` look-up of flows by id.
    body = {
        "flows": {
            "operator": "and_",
            "id": {"any_": [ids["alpha"], ids["gamma"]]},
            "name": None,
            "tags": None,
        },
        "sort": None,
        "limit": None,
        "offset": 0,
    }
    found = await client.post("/api/flows/filter", json=body)
    assert [f["name"] for f in found.json()] == ["alpha", "gamma"]
    desc = await client.post("/api/flows/filter", json={"sort": "NAME_DESC", "limit": 2})
    assert [f["name"] for f in desc.json()] == ["gamma", "beta"]
    tagged = await client.post("/api/flows/count", json={"flows": {"tags": {"all_": ["beta"]}}})
    assert tagged.json() == 1
    assert (await client.post("/api/flows/count")).json() == 3

    assert (await client.get("/api/flows/name/beta")).json()["id"] == ids["beta"]
    assert (await client.get("/api/flows/name/nope")).status_code == 404
    assert (
        await client.patch(f"/api/flows/{ids['beta']}", json={"tags": ["b2"]})
    ).status_code == 204
    assert (await client.get(f"/api/flows/{ids['beta']}")).json()["tags"] == ["b2"]

    run = await client.post("/api/flow_runs/", json={"flow_id": ids["beta"]})
    assert (await client.delete(f"/api/flows/{ids['beta']}")).status_code == 204
    assert (await client.get(f"/api/flows/{ids['beta']}")).status_code == 404
    # Its runs go with it.
    assert (await client.get(f"/api/flow_runs/{run.json()['id']}")).status_code == 404
    assert (await client.delete(f"/api/flows/{ids['beta']}")).status_code == 404
