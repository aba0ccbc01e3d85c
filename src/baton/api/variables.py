"""/api/variables: create, read, update and delete by id or by name; filter and count."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from baton.api.deps import DB
from baton.api.responses import ORJSONResponse
from baton.api.routing import resource_router
from baton.core import variables
from baton.schemas.variables import (
    VariableCountBody,
    VariableCreate,
    VariableFilterBody,
    VariableUpdate,
)

router = resource_router(prefix="/variables", tags=["variables"])


@router.post("/")
async def create_variable(body: VariableCreate, db: DB) -> Response:
    variable = await variables.create_variable(db, body.name, body.value, body.tags or [])
    return ORJSONResponse(variable, status_code=201)


@router.post("/filter")
async def filter_variables(db: DB, body: VariableFilterBody | None = None) -> Response:
    body = body or VariableFilterBody()
    limit, offset = body.page
    rows = await variables.filter_variables(db, body.variables, body.sort, limit, offset)
    return ORJSONResponse(rows)


@router.post("/count")
async def count_variables(db: DB, body: VariableCountBody | None = None) -> Response:
    body = body or VariableCountBody()
    return ORJSONResponse(await variables.count_variables(db, body.variables))


@router.get("/name/{name}")
async def read_variable_by_name(name: str, db: DB) -> Response:
    return ORJSONResponse(await variables.read_variable(db, name))


@router.patch("/name/{name}")
async def update_variable_by_name(name: str, body: VariableUpdate, db: DB) -> Response:
    await variables.update_variable(db, name, body.changes())
    return Response(status_code=204)


@router.delete("/name/{name}")
async def delete_variable_by_name(name: str, db: DB) -> Response:
    await variables.delete_variable(db, name)
    return Response(status_code=204)


@router.get("/{variable_id}")
async def read_variable(variable_id: uuid.UUID, db: DB) -> Response:
    return ORJSONResponse(await variables.read_variable(db, variable_id))


@router.patch("/{variable_id}")
async def update_variable(variable_id: uuid.UUID, body: VariableUpdate, db: DB) -> Response:
    await variables.update_variable(db, variable_id, body.changes())
    return Response(status_code=204)


@router.delete("/{variable_id}")
async def delete_variable(variable_id: uuid.UUID, db: DB) -> Response:
    await variables.delete_variable(db, variable_id)
    return Response(status_code=204)
