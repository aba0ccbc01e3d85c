"""/api/work_pools: pools (create, read, update, delete, query), the queues of a pool, and
its workers' REST heartbeats and listing. The worker channel websocket is in
`worker_channel.py`."""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response

from baton.api.deps import DB
from baton.api.responses import ORJSONResponse
from baton.api.routing import resource_router
from baton.core import work_pools, work_queues, workers
from baton.schemas.work_pools import (
    WorkerFilterBody,
    WorkerHeartbeat,
    WorkPoolCountBody,
    WorkPoolCreate,
    WorkPoolFilterBody,
    WorkPoolUpdate,
    WorkQueueCreate,
    WorkQueueFilterBody,
    WorkQueueUpdate,
)

router = resource_router(prefix="/work_pools", tags=["work pools"])


@router.post("/")
async def create_work_pool(body: WorkPoolCreate, db: DB) -> Response:
    return ORJSONResponse(await work_pools.create_work_pool(db, body), status_code=201)


@router.post("/filter")
async def filter_work_pools(db: DB, body: WorkPoolFilterBody | None = None) -> Response:
    return ORJSONResponse(await work_pools.filter_work_pools(db, body or WorkPoolFilterBody()))


@router.post("/count")
async def count_work_pools(db: DB, body: WorkPoolCountBody | None = None) -> int:
    return await work_pools.count_work_pools(db, body or WorkPoolCountBody())


@router.get("/{name}")
async def read_work_pool(name: str, db: DB) -> Response:
    return ORJSONResponse(await work_pools.read_work_pool(db, name))


@router.patch("/{name}", status_code=204)
async def update_work_pool(name: str, body: WorkPoolUpdate, db: DB) -> None:
    await work_pools.update_work_pool(db, name, body.changes())


@router.delete("/{name}", status_code=204)
async def delete_work_pool(name: str, db: DB) -> None:
    await work_pools.delete_work_pool(db, name)


# --- the queues of a pool ---------------------------------------------------------------


# The client posts without the trailing slash; the slash form is Prefect's documented one.
@router.post("/{name}/queues")
@router.post("/{name}/queues/", include_in_schema=False)
async def create_work_queue(name: str, body: WorkQueueCreate, db: DB) -> Response:
    return ORJSONResponse(await work_queues.create_work_queue(db, name, body), status_code=201)


@router.post("/{name}/queues/filter")
async def filter_work_queues(
    name: str, db: DB, body: WorkQueueFilterBody | None = None
) -> Response:
    queues = await work_queues.filter_pool_queues(db, name, body or WorkQueueFilterBody())
    return ORJSONResponse(queues)


@router.get("/{name}/queues/{queue_name}")
async def read_work_queue(name: str, queue_name: str, db: DB) -> Response:
    return ORJSONResponse(await work_queues.read_work_queue(db, name, queue_name))


@router.patch("/{name}/queues/{queue_name}", status_code=204)
async def update_work_queue(name: str, queue_name: str, body: WorkQueueUpdate, db: DB) -> None:
    await work_queues.update_work_queue(db, name, queue_name, body.changes())


@router.delete("/{name}/queues/{queue_name}", status_code=204)
async def delete_work_queue(name: str, queue_name: str, db: DB) -> None:
    await work_queues.delete_work_queue(db, name, queue_name)


# --- workers ----------------------------------------------------------------------------


@router.post("/{name}/workers/heartbeat", status_code=204)
async def worker_heartbeat(name: str, body: WorkerHeartbeat, db: DB) -> Response:
    """Create or refresh the worker. With `return_id`, answer its id as plain text (the
    client parses the body as a bare UUID)."""
    worker_id = await workers.heartbeat(db, name, body.name, body.heartbeat_interval_seconds)
    if body.return_id:
        return PlainTextResponse(str(worker_id))
    return Response(status_code=204)


@router.post("/{name}/workers/filter")
async def filter_workers(name: str, db: DB, body: WorkerFilterBody | None = None) -> Response:
    return ORJSONResponse(await workers.filter_workers(db, name, body or WorkerFilterBody()))


@router.delete("/{name}/workers/{worker_name}", status_code=204)
async def delete_worker(name: str, worker_name: str, db: DB) -> None:
    await workers.delete_worker(db, name, worker_name)
