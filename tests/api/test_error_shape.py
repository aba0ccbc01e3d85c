"""Every HTTP error has one shape, built in one place (baton.api.errors). This walks each source."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from baton.errors import Unavailable

ERROR_KEYS = {"status_code", "error", "detail", "errors"}


def assert_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS
    assert body["status_code"] == status
    assert body["error"] == error
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert isinstance(body["errors"], list)
    return body


async def test_validation_error_names_the_field(client: httpx.AsyncClient) -> None:
    body = assert_error(await client.post("/api/flows/", json={"tags": []}), 422, "invalid")
    assert body["errors"] == [{"loc": "body.name", "msg": "Field required", "type": "missing"}]
    assert body["detail"] == "Invalid request: body.name: Field required."


async def test_malformed_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/flows/", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    body = assert_error(response, 422, "invalid")
    assert "not valid JSON" in body["detail"]


async def test_bad_path_parameter(client: httpx.AsyncClient) -> None:
    body = assert_error(await client.get("/api/flows/not-a-uuid"), 422, "invalid")
    assert body["errors"][0]["loc"] == "path.flow_id"


async def test_not_found_object_and_route(client: httpx.AsyncClient) -> None:
    assert_error(await client.get(f"/api/flows/{uuid.uuid4()}"), 404, "not_found")
    body = assert_error(await client.get("/api/no-such-thing"), 404, "not_found")
    assert body["errors"] == []


async def test_method_not_allowed_keeps_allow_header(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/health")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


@pytest.fixture
def app_with_raising_routes(app: FastAPI) -> FastAPI:
    """A route that raises the core's outage error (an outage has no public trigger)."""

    @app.get("/api/test/unavailable")
    async def unavailable() -> None:
        raise Unavailable("The database is not answering.")

    return app


async def test_conflict(client: httpx.AsyncClient) -> None:
    variable = {"name": "x", "value": "one", "tags": []}
    assert (await client.post("/api/variables/", json=variable)).status_code == 201
    body = assert_error(await client.post("/api/variables/", json=variable), 409, "conflict")
    assert body["detail"] == "A variable with the name 'x' already exists."
    assert body["errors"] == []


async def test_unavailable(app_with_raising_routes: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.get("/api/test/unavailable")
    assert_error(response, 503, "unavailable")
    assert int(response.headers["retry-after"]) > 0
