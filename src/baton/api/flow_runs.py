"""/api/flow_runs and /api/flow_run_states."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Body
from starlette.responses import Response

from baton.api.deps import DB, Bus
from baton.api.responses import ORJSONResponse
from baton.api.routing import resource_router
from baton.core import flow_runs
from baton.schemas.filters import FlowRunFilterBody, RunQuery
from baton.schemas.flow_runs import FlowRunCreate, FlowRunUpdate
from baton.schemas.flows import Labels
from baton.schemas.states import SetStateBody

router = resource_router(prefix="/flow_runs", tags=["flow runs"])
states = resource_router(prefix="/flow_run_states", tags=["flow runs"])


@router.post("/")
async def create_flow_run(body: FlowRunCreate, db: DB, bus: Bus) -> Response:
    run, created = await flow_runs.create_flow_run(db, bus, body)
    return ORJSONResponse(run, status_code=201 if created else 200)


@router.post("/filter")
async def filter_flow_runs(db: DB, body: FlowRunFilterBody | None = None) -> Response:
    return ORJSONResponse(await flow_runs.filter_flow_runs(db, body or FlowRunFilterBody()))


@router.post("/count")
async def count_flow_runs(db: DB, body: RunQuery | None = None) -> int:
    return await flow_runs.count_flow_runs(db, body or RunQuery())


@router.get("/{run_id}")
async def read_flow_run(run_id: uuid.UUID, db: DB) -> Response:
    return ORJSONResponse(await flow_runs.read_flow_run(db, run_id))


@router.patch("/{run_id}", status_code=204)
async def update_flow_run(run_id: uuid.UUID, body: FlowRunUpdate, db: DB) -> None:
    await flow_runs.update_flow_run(db, run_id, body)


@router.patch("/{run_id}/labels", status_code=204)
async def update_flow_run_labels(
    run_id: uuid.UUID, db: DB, labels: Annotated[Labels, Body()]
) -> None:
    await flow_runs.update_labels(db, run_id, labels)


@router.delete("/{run_id}", status_code=204)
async def delete_flow_run(run_id: uuid.UUID, db: DB) -> None:
    await flow_runs.delete_flow_run(db, run_id)


@router.post("/{run_id}/set_state")
async def set_flow_run_state(run_id: uuid.UUID, body: SetStateBody, db: DB, bus: Bus) -> Response:
    result = await flow_runs.set_flow_run_state(db, bus, run_id, body.state, force=body.force)
    return orchestration_response(result)


def orchestration_response(result: flow_runs.StateResult) -> Response:
    decision = result.decision
    payload: dict[str, Any] = {
        "state": result.state,
        "status": decision.status.value,
        "details": decision.details(),
    }
    # 201 when a state was written, 200 when the run kept its state.
    return ORJSONResponse(payload, status_code=201 if decision.written else 200)


@states.get("/")
async def read_flow_run_states(db: DB, flow_run_id: uuid.UUID) -> Response:
    return ORJSONResponse(await flow_runs.read_flow_run_states(db, flow_run_id))


@states.get("/{state_id}")
async def read_flow_run_state(state_id: uuid.UUID, db: DB) -> Response:
    return ORJSONResponse(await flow_runs.read_flow_run_state(db, state_id))
