"""Deployments: the list, one deployment's page (schedules in words, next and recent runs,
its edit forms), pause and resume, and "run now" with parameters from its schema. The edit
actions are in `deployment_edit.py`."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from starlette.responses import Response

from baton.clock import utcnow
from baton.core.deployment_runs import create_flow_run_from_deployment
from baton.core.deployments import set_paused
from baton.errors import InvalidInput
from baton.orchestration.schedules import ScheduleError, parse_schedule
from baton.schemas.deployments import DeploymentFlowRunCreate
from baton.ui.editing import Problems
from baton.ui.format import pretty_json
from baton.ui.forms import read_form
from baton.ui.gate import ui_router
from baton.ui.params import parse_id, query_offset
from baton.ui.params_form import ParamField, fields_for, read_values
from baton.ui.queries import catalog as q
from baton.ui.queries.common import FR
from baton.ui.rendering import page, redirect
from baton.ui.state import database, event_bus, nudge_scheduler

router = ui_router()


def describe(schedule: dict[str, Any]) -> str:
    try:
        return parse_schedule(schedule).describe()
    except (ScheduleError, TypeError, ValueError):
        return "an unreadable schedule"


@router.get("/deployments")
async def deployment_list(request: Request) -> Response:
    text = request.query_params.get("q", "").strip()[:200]
    offset = query_offset(request)
    async with database(request).read() as conn:
        deployments, more = await q.deployment_list(conn, text, None, offset, utcnow())
    for d in deployments:
        d["described"] = [describe(s["schedule"]) for s in d["schedules"] if s["active"]]
    context = {
        "deployments": deployments,
        "more": more,
        "text": text,
        "offset": offset,
        "step": q.LIST_LIMIT,
    }
    return page(request, "pages/deployments.html", context)


def edit_draft(deployment: dict[str, Any]) -> dict[str, str]:
    """The edit form filled from the deployment as stored."""
    limit = deployment["concurrency_limit"]
    return {
        "description": deployment["description"] or "",
        "tags": ", ".join(deployment["tags"] or []),
        "concurrency_limit": "" if limit is None else str(limit),
        "parameters": pretty_json(deployment["parameters"] or {}),
        "work_queue_name": deployment["work_queue_name"] or "",
    }


NEW_SCHEDULE = {"kind": "cron", "value": "", "timezone": "UTC"}


async def render_deployment(
    request: Request,
    deployment_id: uuid.UUID,
    *,
    fields: list[ParamField] | None = None,
    form_error: str = "",
    run_name: str = "",
    edit: dict[str, str] | None = None,
    schedule: dict[str, str] | None = None,
    problems: Problems | None = None,
    status: int = 200,
) -> Response:
    """The deployment's page; a refused form comes back filled as it was sent, with the
    problems next to their fields."""
    now = utcnow()
    async with database(request).read() as conn:
        deployment = await q.read_deployment(conn, deployment_id)
        upcoming, recent = await q.upcoming_and_recent(conn, FR.c.deployment_id, deployment_id, now)
        pool = deployment["work_pool_name"]
        queues = await q.queue_names(conn, pool) if pool else []
    for s in deployment["schedules"]:
        s["described"] = describe(s["schedule"])
    if fields is None:
        fields = fields_for(deployment["parameter_openapi_schema"], deployment["parameters"])
    context = {
        "d": deployment,
        "upcoming": upcoming,
        "recent": recent,
        "fields": fields,
        "form_error": form_error,
        "run_name": run_name,
        "edit": edit or edit_draft(deployment),
        "edit_open": edit is not None,
        "schedule": schedule or NEW_SCHEDULE,
        "queues": queues,
        "problems": problems or {},
    }
    return page(request, "pages/deployment.html", context, status=status)


@router.get("/deployments/{raw_id}")
async def deployment_page(request: Request, raw_id: str) -> Response:
    return await render_deployment(request, parse_id(raw_id, "Deployment"))


@router.post("/deployments/{raw_id}/pause")
async def pause(request: Request, raw_id: str) -> Response:
    form = await read_form(request)
    deployment_id = parse_id(raw_id, "Deployment")
    paused = form.get("paused") == "true"
    await set_paused(database(request), deployment_id, paused)
    nudge_scheduler(request)
    notice = (
        "Deployment paused: its future scheduled runs were removed."
        if paused
        else ("Deployment resumed.")
    )
    return redirect(request, f"/deployments/{deployment_id}", notice)


@router.post("/deployments/{raw_id}/run")
async def run_now(request: Request, raw_id: str) -> Response:
    """Create a run with the form's parameters; refused values come back on the form (422)."""
    form = await read_form(request)
    deployment_id = parse_id(raw_id, "Deployment")
    async with database(request).read() as conn:
        deployment = await q.read_deployment(conn, deployment_id)
    fields = fields_for(deployment["parameter_openapi_schema"], deployment["parameters"])
    params = read_values(fields, form)
    run_name = form.get("name").strip()[:255]
    if any(f.error for f in fields):
        error = "Some parameters could not be read."
        return await render_deployment(
            request, deployment_id, fields=fields, form_error=error, run_name=run_name, status=422
        )
    body = DeploymentFlowRunCreate(parameters=params, name=run_name or None)
    try:
        run, _ = await create_flow_run_from_deployment(
            database(request), event_bus(request), deployment_id, body
        )
    except InvalidInput as exc:
        name = (exc.loc or "").removeprefix("body.parameters.")
        for f in fields:
            if f.name == name:
                f.error = exc.detail
        return await render_deployment(
            request,
            deployment_id,
            fields=fields,
            form_error=exc.detail,
            run_name=run_name,
            status=422,
        )
    return redirect(request, f"/runs/{run['id']}", f"Flow run {run['name']} created.")
