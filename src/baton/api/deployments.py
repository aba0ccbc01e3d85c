"""/api/deployments: CRUD (create is an upsert by flow and name), queries, runs on demand
and ahead of time, the runs a runner polls for, and each deployment's schedules."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Body
from starlette.responses import Response

from baton.api.deps import DB, Bus, NudgeScheduler
from baton.api.responses import ORJSONResponse
from baton.api.routing import resource_router
from baton.clock import utcnow
from baton.core import deployment_runs, deployments
from baton.schemas.deployments import (
    DeploymentCreate,
    DeploymentFilterBody,
    DeploymentFlowRunCreate,
    DeploymentPaginateBody,
    DeploymentQuery,
    DeploymentUpdate,
    ScheduleCreate,
    ScheduledRunsQuery,
    ScheduleRunsBody,
    ScheduleUpdate,
)

router = resource_router(prefix="/deployments", tags=["deployments"])


@router.post("/")
async def create_deployment(body: DeploymentCreate, db: DB, nudge: NudgeScheduler) -> Response:
    deployment, created = await deployments.create_deployment(db, body)
    nudge()
    return ORJSONResponse(deployment, status_code=201 if created else 200)


@router.post("/filter")
async def filter_deployments(db: DB, body: DeploymentFilterBody | None = None) -> Response:
    return ORJSONResponse(await deployments.filter_deployments(db, body or DeploymentFilterBody()))


@router.post("/count")
async def count_deployments(db: DB, body: DeploymentQuery | None = None) -> int:
    return await deployments.count_deployments(db, body or DeploymentQuery())


@router.post("/paginate")
async def paginate_deployments(db: DB, body: DeploymentPaginateBody | None = None) -> Response:
    return ORJSONResponse(
        await deployments.paginate_deployments(db, body or DeploymentPaginateBody())
    )


@router.post("/get_scheduled_flow_runs")
async def get_scheduled_flow_runs(body: ScheduledRunsQuery, db: DB) -> Response:
    runs = await deployment_runs.scheduled_runs_of_deployments(
        db, body.deployment_ids, body.scheduled_before, body.limit
    )
    return ORJSONResponse(runs)


@router.get("/name/{flow_name}/{deployment_name}")
async def read_deployment_by_name(flow_name: str, deployment_name: str, db: DB) -> Response:
    return ORJSONResponse(await deployments.read_deployment_by_name(db, flow_name, deployment_name))


@router.get("/{deployment_id}")
async def read_deployment(deployment_id: uuid.UUID, db: DB) -> Response:
    return ORJSONResponse(await deployments.read_deployment(db, deployment_id))


@router.patch("/{deployment_id}", status_code=204)
async def update_deployment(
    deployment_id: uuid.UUID, body: DeploymentUpdate, db: DB, nudge: NudgeScheduler
) -> None:
    await deployments.update_deployment(db, deployment_id, body)
    nudge()


@router.delete("/{deployment_id}", status_code=204)
async def delete_deployment(deployment_id: uuid.UUID, db: DB) -> None:
    await deployments.delete_deployment(db, deployment_id)


@router.post("/{deployment_id}/pause_deployment", status_code=204)
async def pause_deployment(deployment_id: uuid.UUID, db: DB) -> None:
    await deployments.set_paused(db, deployment_id, True)


@router.post("/{deployment_id}/resume_deployment", status_code=204)
async def resume_deployment(deployment_id: uuid.UUID, db: DB, nudge: NudgeScheduler) -> None:
    await deployments.set_paused(db, deployment_id, False)
    nudge()


@router.post("/{deployment_id}/create_flow_run")
async def create_flow_run(
    deployment_id: uuid.UUID, db: DB, bus: Bus, body: DeploymentFlowRunCreate | None = None
) -> Response:
    run, created = await deployment_runs.create_flow_run_from_deployment(
        db, bus, deployment_id, body or DeploymentFlowRunCreate()
    )
    return ORJSONResponse(run, status_code=201 if created else 200)


@router.post("/{deployment_id}/schedule", status_code=201)
async def schedule_deployment(
    deployment_id: uuid.UUID, db: DB, bus: Bus, body: ScheduleRunsBody | None = None
) -> Response:
    """Create the runs of a window now: from `start_time` (default now) until `end_time`,
    at least `min_runs` or `min_time`, at most `max_runs`. A start in the past backfills."""
    body = body or ScheduleRunsBody()
    await deployments.read_deployment(db, deployment_id)  # 404 before any work
    start = body.start_time or utcnow()
    horizon = deployment_runs.window_horizon(
        start, body.end_time, body.min_runs, body.max_runs, body.min_time
    )
    created = await deployment_runs.schedule_runs(db, bus, [deployment_id], horizon, start)
    return ORJSONResponse({"created": created}, status_code=201)


@router.get("/{deployment_id}/schedules")
async def read_schedules(deployment_id: uuid.UUID, db: DB) -> Response:
    return ORJSONResponse(await deployments.read_schedules(db, deployment_id))


@router.post("/{deployment_id}/schedules", status_code=201)
async def create_schedules(
    deployment_id: uuid.UUID,
    db: DB,
    nudge: NudgeScheduler,
    schedules: Annotated[list[ScheduleCreate], Body()],
) -> Response:
    created = await deployments.create_schedules(db, deployment_id, schedules)
    nudge()
    return ORJSONResponse(created, status_code=201)


@router.patch("/{deployment_id}/schedules/{schedule_id}", status_code=204)
async def update_schedule(
    deployment_id: uuid.UUID,
    schedule_id: uuid.UUID,
    body: ScheduleUpdate,
    db: DB,
    nudge: NudgeScheduler,
) -> None:
    await deployments.update_schedule(db, deployment_id, schedule_id, body)
    nudge()


@router.delete("/{deployment_id}/schedules/{schedule_id}", status_code=204)
async def delete_schedule(deployment_id: uuid.UUID, schedule_id: uuid.UUID, db: DB) -> None:
    await deployments.delete_schedule(db, deployment_id, schedule_id)
