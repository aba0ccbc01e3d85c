"""/api/flows: upsert by name (201 new, 200 existing), read, update, delete, query."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from baton.api.deps import DB
from baton.api.responses import ORJSONResponse
from baton.api.routing import resource_router
from baton.core import flows
from baton.schemas.filters import FlowFilterBody
from baton.schemas.flows import FlowCreate, FlowUpdate

router = resource_router(prefix="/flows", tags=["flows"])


@router.post("/")
async def create_flow(body: FlowCreate, db: DB) -> Response:
    flow, created = await flows.upsert_flow(db, body.name, body.tags, body.labels)
    return ORJSONResponse(flow, status_code=201 if created else 200)


@router.post("/filter")
async def filter_flows(db: DB, body: FlowFilterBody | None = None) -> Response:
    return ORJSONResponse(await flows.filter_flows(db, body or FlowFilterBody()))


@router.post("/count")
async def count_flows(db: DB, body: FlowFilterBody | None = None) -> int:
    return await flows.count_flows(db, body or FlowFilterBody())


@router.get("/name/{name}")
async def read_flow_by_name(name: str, db: DB) -> Response:
    return ORJSONResponse(await flows.read_flow_by_name(db, name))


@router.get("/{flow_id}")
async def read_flow(flow_id: uuid.UUID, db: DB) -> Response:
    return ORJSONResponse(await flows.read_flow(db, flow_id))


@router.patch("/{flow_id}", status_code=204)
async def update_flow(flow_id: uuid.UUID, body: FlowUpdate, db: DB) -> None:
    await flows.update_flow(db, flow_id, body.tags)


@router.delete("/{flow_id}", status_code=204)
async def delete_flow(flow_id: uuid.UUID, db: DB) -> None:
    await flows.delete_flow(db, flow_id)
