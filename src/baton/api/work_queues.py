"""/api/work_queues: the legacy routes that address a queue by id (or by bare name), as the
engine and the `work-queue` CLI commands still use them."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from baton.api.deps import DB
from baton.api.responses import ORJSONResponse
from baton.api.routing import resource_router
from baton.core import work_queues
from baton.schemas.work_pools import WorkQueueFilterBody, WorkQueueUpdate

router = resource_router(prefix="/work_queues", tags=["work queues"])


@router.post("/filter")
async def filter_work_queues(db: DB, body: WorkQueueFilterBody | None = None) -> Response:
    return ORJSONResponse(await work_queues.filter_work_queues(db, body or WorkQueueFilterBody()))


@router.get("/name/{name}")
async def read_work_queue_by_name(name: str, db: DB) -> Response:
    return ORJSONResponse(await work_queues.read_work_queue_by_name(db, name))


@router.get("/{queue_id}")
async def read_work_queue(queue_id: uuid.UUID, db: DB) -> Response:
    return ORJSONResponse(await work_queues.read_work_queue_by_id(db, queue_id))


@router.get("/{queue_id}/status")
async def read_work_queue_status(queue_id: uuid.UUID, db: DB) -> Response:
    return ORJSONResponse(await work_queues.work_queue_health(db, queue_id))


@router.patch("/{queue_id}", status_code=204)
async def update_work_queue(queue_id: uuid.UUID, body: WorkQueueUpdate, db: DB) -> None:
    await work_queues.update_work_queue_by_id(db, queue_id, body.changes())


@router.delete("/{queue_id}", status_code=204)
async def delete_work_queue(queue_id: uuid.UUID, db: DB) -> None:
    await work_queues.delete_work_queue_by_id(db, queue_id)
