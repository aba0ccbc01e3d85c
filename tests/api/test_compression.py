"""Large answers are gzipped when the client accepts it, and decode to the same JSON; small
answers, clients without gzip and streamed bodies are left as they are."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from baton.server.compression import FastGZipMiddleware


async def many_runs(client: httpx.AsyncClient, n: int) -> None:
    flow = (await client.post("/api/flows/", json={"name": "gz"})).json()
    for _ in range(n):
        body = {"flow_id": flow["id"], "state": {"type": "PENDING"}, "tags": ["t"]}
        assert (await client.post("/api/flow_runs/", json=body)).status_code == 201


async def raw_filter(client: httpx.AsyncClient, encoding: str | None) -> httpx.Response:
    """The answer as sent: httpx would decode gzip itself, so read the raw stream."""
    headers = {"Accept-Encoding": encoding} if encoding else {"Accept-Encoding": "identity"}
    request = client.build_request(
        "POST", "/api/flow_runs/filter", json={"limit": 50}, headers=headers
    )
    response = await client.send(request, stream=True)
    response._content = b"".join([chunk async for chunk in response.aiter_raw()])
    return response


async def test_a_large_list_is_gzipped_and_decodes_to_the_same_runs(
    client: httpx.AsyncClient,
) -> None:
    await many_runs(client, 20)
    plain = await raw_filter(client, None)
    zipped = await raw_filter(client, "gzip, deflate")
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert int(zipped.headers["content-length"]) == len(zipped.content) < len(plain.content) / 4
    assert ids(orjson.loads(gzip.decompress(zipped.content))) == ids(orjson.loads(plain.content))


def ids(runs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(run["id"], run["name"]) for run in runs]


async def test_a_small_answer_is_not_compressed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers


async def test_a_streamed_body_is_compressed_chunk_by_chunk() -> None:
    chunks = [b"line %d " % i * 400 for i in range(5)]

    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    async def endpoint(request: Request) -> StreamingResponse:
        return StreamingResponse(stream(), media_type="text/plain")

    app = FastGZipMiddleware(Starlette(routes=[Route("/", endpoint)]), minimum_size=100)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == b"".join(chunks)  # httpx decoded the gzip stream
