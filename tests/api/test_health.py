"""The endpoints every later feature stands on: health, readiness, version, docs, home."""

from __future__ import annotations

import httpx


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy"}


async def test_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_version_is_one_the_prefect_3_9_1_client_accepts(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/admin/version")
    assert response.status_code == 200
    version = response.json()
    assert isinstance(version, str)
    major, minor, patch = (int(part) for part in version.split("."))
    # The client fails on another major version and warns on an older server.
    assert major == 3
    assert (minor, patch) >= (9, 1)


async def test_openapi_and_docs(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    assert spec["info"]["title"] == "Baton"
    assert "/api/health" in spec["paths"]
    assert "/api/flows/" in spec["paths"]
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "/api/openapi.json" in docs.text


async def test_home_page_is_titled_baton(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Baton</title>" in response.text
