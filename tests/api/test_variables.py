"""Variables: create (409 on a taken name), read, update and delete by id or by name,
filter and count. Bodies are those the Prefect 3.9.1 client and CLI send."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from baton.db import tables as t

VARIABLE_KEYS = {"id", "created", "updated", "name", "value", "tags"}


async def _rows(app: FastAPI) -> dict[str, dict[str, Any]]:
    async with app.state.db.read() as conn:
        rows = (await conn.execute(sa.select(t.variable))).mappings().all()
    return {row["name"]: dict(row) for row in rows}


async def _create(client: httpx.AsyncClient, name: str, value: Any, tags: list[str]) -> Any:
    response = await client.post(
        "/api/variables/", json={"name": name, "value": value, "tags": tags}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_and_read(client: httpx.AsyncClient, app: FastAPI) -> None:
    # `prefect variable set myvar hello --tag cap`
    response = await client.get("/api/variables/name/myvar")
    assert response.status_code == 404
    assert response.json()["detail"] == "Variable not found."

    response = await client.post(
        "/api/variables/", json={"name": "myvar", "value": "hello", "tags": ["cap"]}
    )
    assert response.status_code == 201
    variable = response.json()
    assert set(variable) == VARIABLE_KEYS
    assert variable["name"] == "myvar"
    assert variable["value"] == "hello"
    assert variable["tags"] == ["cap"]
    assert uuid.UUID(variable["id"])
    assert variable["created"].endswith("Z")

    rows = await _rows(app)
    assert list(rows) == ["myvar"]
    assert str(rows["myvar"]["id"]) == variable["id"]
    assert rows["myvar"]["value"] == "hello"
    assert rows["myvar"]["tags"] == ["cap"]

    by_name = await client.get("/api/variables/name/myvar")
    assert by_name.status_code == 200
    assert by_name.json() == variable
    by_id = await client.get(f"/api/variables/{variable['id']}")
    assert by_id.status_code == 200
    assert by_id.json() == variable


@pytest.mark.parametrize(
    "value",
    [{"a": 1, "b": [1, 2, {"c": None}]}, [1, "two", 3.5], 42, 2**63 - 1, 2.5, 2.0, True, None, ""],
)
async def test_value_is_any_json(client: httpx.AsyncClient, app: FastAPI, value: Any) -> None:
    created = await _create(client, "v", value, [])
    read = (await client.get("/api/variables/name/v")).json()["value"]
    stored = (await _rows(app))["v"]["value"]
    for got in (created["value"], read, stored):
        assert got == value
        assert type(got) is type(value)  # 2.0 stays a float, 42 an int, on both dialects


async def test_tags_default_to_empty(client: httpx.AsyncClient, app: FastAPI) -> None:
    response = await client.post("/api/variables/", json={"name": "untagged", "value": 1})
    assert response.status_code == 201
    assert response.json()["tags"] == []
    assert (await _rows(app))["untagged"]["tags"] == []


async def test_duplicate_name_is_409(client: httpx.AsyncClient, app: FastAPI) -> None:
    first = await _create(client, "x", "one", [])
    response = await client.post("/api/variables/", json={"name": "x", "value": "two", "tags": []})
    assert response.status_code == 409
    assert response.json()["detail"] == "A variable with the name 'x' already exists."
    rows = await _rows(app)
    assert len(rows) == 1
    assert str(rows["x"]["id"]) == first["id"]
    assert rows["x"]["value"] == "one"


async def test_unknown_id_is_404(client: httpx.AsyncClient) -> None:
    missing = uuid.uuid4()
    for response in (
        await client.get(f"/api/variables/{missing}"),
        await client.patch(f"/api/variables/{missing}", json={"value": 1}),
        await client.delete(f"/api/variables/{missing}"),
        await client.patch("/api/variables/name/nope", json={"value": 1}),
        await client.delete("/api/variables/name/nope"),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == "Variable not found."


async def test_overwrite_by_name(client: httpx.AsyncClient, app: FastAPI) -> None:
    created = await _create(client, "myvar", "hello", ["cap"])
    # `prefect variable set myvar '{"a":1}' --overwrite`
    response = await client.patch(
        "/api/variables/name/myvar", json={"name": "myvar", "value": {"a": 1}, "tags": []}
    )
    assert response.status_code == 204
    assert response.content == b""

    row = (await _rows(app))["myvar"]
    assert row["value"] == {"a": 1}
    assert row["tags"] == []
    assert str(row["id"]) == created["id"]
    read = (await client.get("/api/variables/name/myvar")).json()
    assert read["value"] == {"a": 1}
    assert read["created"] == created["created"]
    assert read["updated"] > created["updated"]


async def test_partial_update_by_id(client: httpx.AsyncClient, app: FastAPI) -> None:
    created = await _create(client, "partial", {"keep": True}, ["a"])
    url = f"/api/variables/{created['id']}"

    assert (await client.patch(url, json={"tags": ["b", "c"]})).status_code == 204
    row = (await _rows(app))["partial"]
    assert (row["value"], row["tags"]) == ({"keep": True}, ["b", "c"])

    # An explicit null value is a change; absent keys are not.
    assert (await client.patch(url, json={"value": None})).status_code == 204
    row = (await _rows(app))["partial"]
    assert (row["value"], row["tags"]) == (None, ["b", "c"])

    assert (await client.patch(url, json={"name": "renamed"})).status_code == 204
    assert list(await _rows(app)) == ["renamed"]
    assert (await client.get("/api/variables/name/renamed")).json()["id"] == created["id"]


async def test_rename_onto_a_taken_name_is_409(client: httpx.AsyncClient, app: FastAPI) -> None:
    await _create(client, "a", 1, [])
    b = await _create(client, "b", 2, [])
    for response in (
        await client.patch("/api/variables/name/b", json={"name": "a"}),
        await client.patch(f"/api/variables/{b['id']}", json={"name": "a", "value": 3}),
    ):
        assert response.status_code == 409
        assert response.json()["detail"] == "A variable with the name 'a' already exists."
    rows = await _rows(app)
    assert {name: row["value"] for name, row in rows.items()} == {"a": 1, "b": 2}


async def test_delete_by_id_and_by_name(client: httpx.AsyncClient, app: FastAPI) -> None:
    one = await _create(client, "one", 1, [])
    await _create(client, "two", 2, [])
    await _create(client, "three", 3, [])

    response = await client.delete(f"/api/variables/{one['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.delete("/api/variables/name/two")).status_code == 204
    assert list(await _rows(app)) == ["three"]
    assert (await client.get(f"/api/variables/{one['id']}")).status_code == 404
    assert (await client.delete("/api/variables/name/two")).status_code == 404


async def test_filter_and_count(client: httpx.AsyncClient) -> None:
    alpha = await _create(client, "alpha", 1, ["x", "y"])
    beta = await _create(client, "beta", 2, ["x"])
    gamma = await _create(client, "gamma_var", 3, [])

    async def names(body: dict[str, Any] | None) -> list[str]:
        response = await client.post("/api/variables/filter", json=body)
        assert response.status_code == 200, response.text
        return [v["name"] for v in response.json()]

    async def count(body: dict[str, Any] | None) -> int:
        response = await client.post("/api/variables/count", json=body)
        assert response.status_code == 200, response.text
        count: int = response.json()
        return count

    # `prefect variable ls`
    response = await client.post("/api/variables/filter", json={"limit": 100})
    assert response.status_code == 200
    listed = response.json()
    assert [v["name"] for v in listed] == ["gamma_var", "beta", "alpha"]  # CREATED_DESC
    assert listed[2] == alpha
    assert await names(None) == ["gamma_var", "beta", "alpha"]

    assert await names({"sort": "NAME_ASC"}) == ["alpha", "beta", "gamma_var"]
    assert await names({"sort": "NAME_DESC"}) == ["gamma_var", "beta", "alpha"]
    assert await names({"sort": "NAME_ASC", "limit": 1, "offset": 1}) == ["beta"]
    assert await names({"sort": None, "limit": None, "offset": None}) == [
        "gamma_var",
        "beta",
        "alpha",
    ]
    await client.patch("/api/variables/name/alpha", json={"value": 10})
    assert await names({"sort": "UPDATED_DESC"}) == ["alpha", "gamma_var", "beta"]

    by_ids = {"variables": {"id": {"any_": [alpha["id"], gamma["id"]]}}, "sort": "NAME_ASC"}
    assert await names(by_ids) == ["alpha", "gamma_var"]
    assert await names({"variables": {"name": {"any_": ["beta", "nope"]}}}) == ["beta"]
    assert await names({"variables": {"name": {"like_": "_var"}}}) == ["gamma_var"]
    assert await names({"variables": {"name": {"like_": "A"}}, "sort": "NAME_ASC"}) == [
        "alpha",
        "beta",
        "gamma_var",
    ]
    assert await names({"variables": {"tags": {"all_": ["x", "y"]}}}) == ["alpha"]
    assert await names({"variables": {"tags": {"all_": ["x"]}}, "sort": "NAME_ASC"}) == [
        "alpha",
        "beta",
    ]
    assert await names({"variables": {"tags": {"is_null_": True}}}) == ["gamma_var"]
    assert await names({"variables": {"tags": {"is_null_": False}}, "sort": "NAME_ASC"}) == [
        "alpha",
        "beta",
    ]
    either = {
        "variables": {
            "operator": "or_",
            "id": {"any_": [beta["id"]]},
            "name": {"any_": ["gamma_var"]},
        },
        "sort": "NAME_ASC",
    }
    assert await names(either) == ["beta", "gamma_var"]
    assert await names({"variables": {"id": {"any_": []}}}) == []

    assert await count(None) == 3
    assert await count({}) == 3
    assert await count({"variables": {"tags": {"all_": ["x"]}}}) == 2
    assert await count({"variables": {"name": {"any_": ["nope"]}}}) == 0


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": "MyVar", "value": 1}, "body.name"),
        ({"name": "my var", "value": 1}, "body.name"),
        ({"name": "my.var", "value": 1}, "body.name"),
        ({"name": "", "value": 1}, "body.name"),
        ({"name": "x" * 256, "value": 1}, "body.name"),
        ({"name": "ok"}, "body.value"),
        ({"value": 1}, "body.name"),
        ({"name": "ok", "value": "x" * 1_000_001}, "body.value"),
        ({"name": "ok", "value": {"n": 2**64}}, "body.value.n"),
        ({"name": "ok", "value": 1, "tags": "cap"}, "body.tags"),
    ],
)
async def test_bad_create_is_422(
    client: httpx.AsyncClient, app: FastAPI, body: dict[str, Any], loc: str
) -> None:
    response = await client.post("/api/variables/", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == loc
    assert await _rows(app) == {}


async def test_bad_update_and_filter_are_422(client: httpx.AsyncClient, app: FastAPI) -> None:
    await _create(client, "ok", 1, [])
    response = await client.patch("/api/variables/name/ok", json={"name": "Not OK"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "body.name"
    response = await client.patch("/api/variables/name/ok", json={"value": "x" * 1_000_001})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "body.value"
    assert (await _rows(app))["ok"]["value"] == 1

    for body, loc in (
        ({"sort": "NAME"}, "body.sort"),
        ({"limit": -1}, "body.limit"),
        ({"offset": -1}, "body.offset"),
        ({"variables": {"id": {"any_": ["not-a-uuid"]}}}, "body.variables.id.any_.0"),
    ):
        response = await client.post("/api/variables/filter", json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["loc"] == loc
    response = await client.get("/api/variables/not-a-uuid")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "path.variable_id"
