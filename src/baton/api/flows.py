"""/api/flows: upsert by name (201 new, 200 existing) and read."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from starlette.responses import Response

from baton.api.deps import DB
from baton.api.responses import ORJSONResponse
from baton.core import flows
from baton.schemas.flows import FlowCreate

router = APIRouter(prefix="/flows", tags=["flows"])


@router.post("/")
async def create_flow(body: FlowCreate, db: DB) -> Response:
    flow, created = await flows.upsert_flow(db, body.name, body.tags, body.labels)
    return ORJSONResponse(flow, status_code=201 if created else 200)


@router.get("/{flow_id}")
async def read_flow(flow_id: uuid.UUID, db: DB) -> Response:
    return ORJSONResponse(await flows.read_flow(db, flow_id))
