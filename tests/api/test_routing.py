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
