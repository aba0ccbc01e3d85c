"""The API's routers answer FastAPI's "did your routes change?" without walking them, and
still answer it truly: a route added after the app is built is served."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from baton.api.routing import ApiRouter, resource_router


async def test_a_route_added_after_the_app_is_built_is_served() -> None:
    things = resource_router(prefix="/things")

    @things.get("/one")
    async def one() -> dict[str, int]:
        return {"n": 1}

    api = ApiRouter(prefix="/api")
    api.include_router(things)
    app = FastAPI()
    app.include_router(api)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/api/things/one")).json() == {"n": 1}
        assert (await client.get("/api/things/two")).status_code == 404

        @things.get("/two")
        async def two() -> dict[str, int]:
            return {"n": 2}

        assert (await client.get("/api/things/two")).json() == {"n": 2}
        assert (await client.get("/api/things/one")).json() == {"n": 1}


def test_routers_only_nest_the_way_the_api_does() -> None:
    with pytest.raises(TypeError, match="resource routers only"):
        ApiRouter(prefix="/api").include_router(APIRouter(prefix="/x"))
    with pytest.raises(TypeError, match="not other routers"):
        resource_router(prefix="/x").include_router(resource_router(prefix="/y"))


async def test_routers_turn_away_only_paths_they_cannot_serve() -> None:
    """Routers skip requests by their paths' first segment and routes by their literal
    tail; what they can serve is still found: a route added to a router without a prefix
    (under a new first segment), a path parameter before the tail, a wrong method (405),
    a missing trailing slash (redirect)."""
    loose = resource_router()  # no prefix: its paths' first segments vary

    @loose.get("/health")
    async def health() -> dict[str, str]:
        return {"ok": "health"}

    things = resource_router(prefix="/things")

    @things.post("/{thing_id}/poke")
    async def poke(thing_id: int) -> dict[str, int]:
        return {"poked": thing_id}

    @things.get("/")
    async def listing() -> list[int]:
        return [1]

    api = ApiRouter(prefix="/api")
    api.include_router(loose)
    api.include_router(things)
    app = FastAPI()
    app.include_router(api)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/api/health")).json() == {"ok": "health"}
        assert (await client.get("/api/ready")).status_code == 404

        @loose.get("/ready")
        async def ready() -> dict[str, str]:
            return {"ok": "ready"}

        assert (await client.get("/api/ready")).json() == {"ok": "ready"}
        assert (await client.post("/api/things/7/poke")).json() == {"poked": 7}
        assert (await client.get("/api/things/7/poke")).status_code == 405
        assert (await client.post("/api/things/7/pokes")).status_code == 404
        assert (await client.post("/api/things/x/poke")).status_code == 422
        redirect = await client.get("/api/things")
        assert redirect.status_code == 307
        assert redirect.headers["location"] == "http://t/api/things/"
