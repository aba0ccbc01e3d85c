"""/api/task_runs and /api/task_run_states."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from baton.api.deps import DB
from baton.api.flow_runs import orchestration_response
from baton.api.responses import ORJSONResponse
from baton.api.routing import resource_router
from baton.core import task_runs
from baton.schemas.filters import RunQuery, TaskRunFilterBody
from baton.schemas.states import SetStateBody
from baton.schemas.task_runs import TaskRunCreate

router = resource_router(prefix="/task_runs", tags=["task runs"])
states = resource_router(prefix="/task_run_states", tags=["task runs"])


@router.post("/")
async def create_task_run(body: TaskRunCreate, db: DB) -> Response:
    run, created = await task_runs.create_task_run(db, body)
    return ORJSONResponse(run, status_code=201 if created else 200)


@router.post("/filter")
async def filter_task_runs(db: DB, body: TaskRunFilterBody | None = None) -> Response:
    return ORJSONResponse(await task_runs.filter_task_runs(db, body or TaskRunFilterBody()))


@router.post("/count")
async def count_task_runs(db: DB, body: RunQuery | None = None) -> int:
    return await task_runs.count_task_runs(db, body or RunQuery())


@router.get("/{run_id}")
async def read_task_run(run_id: uuid.UUID, db: DB) -> Response:
    return ORJSONResponse(await task_runs.read_task_run(db, run_id))


@router.delete("/{run_id}", status_code=204)
async def delete_task_run(run_id: uuid.UUID, db: DB) -> None:
    await task_runs.delete_task_run(db, run_id)


@router.post("/{run_id}/set_state")
async def set_task_run_state(run_id: uuid.UUID, body: SetStateBody, db: DB) -> Response:
    result = await task_runs.set_task_run_state(db, run_id, body.state, force=body.force)
    return orchestration_response(result)


@states.get("/")
async def read_task_run_states(db: DB, task_run_id: uuid.UUID) -> Response:
    return ORJSONResponse(await task_runs.read_task_run_states(db, task_run_id))


@states.get("/{state_id}")
async def read_task_run_state(state_id: uuid.UUID, db: DB) -> Response:
    return ORJSONResponse(await task_runs.read_task_run_state(db, state_id))
