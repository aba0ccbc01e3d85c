"""/api/work_pools/{name}/get_scheduled_flow_runs: workers claim their pool's due runs."""

from __future__ import annotations

from starlette.responses import Response

from baton.api.deps import DB
from baton.api.responses import ORJSONResponse
from baton.api.routing import resource_router
from baton.core import claims
from baton.schemas.claims import ClaimRunsBody

router = resource_router(prefix="/work_pools", tags=["work pools"])


@router.post("/{pool_name}/get_scheduled_flow_runs")
async def get_scheduled_flow_runs(
    pool_name: str, db: DB, body: ClaimRunsBody | None = None
) -> Response:
    body = body or ClaimRunsBody()
    runs = await claims.get_scheduled_flow_runs(
        db,
        pool_name,
        body.work_queue_names,
        body.scheduled_before,
        body.scheduled_after,
        body.limit,
    )
    return ORJSONResponse(runs)
