"""/api/collections: what the CLI asks about worker types before it creates a pool."""

from __future__ import annotations

from starlette.responses import Response

from baton.api.responses import ORJSONResponse
from baton.api.routing import resource_router
from baton.core.work_pools import worker_types

router = resource_router(prefix="/collections", tags=["collections"])


@router.get("/views/aggregate-worker-metadata")
async def aggregate_worker_metadata() -> Response:
    """The worker types Baton knows, each with its default job template; Baton answers
    from itself, never from the internet."""
    return ORJSONResponse(worker_types())
