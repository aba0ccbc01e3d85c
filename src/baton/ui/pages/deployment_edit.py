"""Changing a deployment from its page: description, tags, concurrency limit, default
parameters (checked against its parameter schema as a run's are) and work queue; adding,
pausing, resuming and deleting schedules; deleting the deployment after a confirmation.
Each action is one call of `core.deployments`, the functions the API calls."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.responses import Response

from baton.core import deployments as core
from baton.core.parameters import check_parameters
from baton.errors import BatonError, InvalidInput
from baton.schemas.deployments import DeploymentUpdate, ScheduleCreate, ScheduleUpdate
from baton.ui.auth import require
from baton.ui.editing import (
    FormProblem,
    Problems,
    json_object,
    problems_of,
    refusal,
    tag_list,
    text_or_none,
)
from baton.ui.forms import Form, read_form
from baton.ui.gate import ui_router
from baton.ui.pages.deployments import render_deployment
from baton.ui.params import parse_id
from baton.ui.rendering import page, redirect
from baton.ui.state import database, nudge_scheduler

router = ui_router()
EDIT_FIELDS = ("description", "tags", "concurrency_limit", "parameters", "work_queue_name")
SCHEDULE_KINDS = ("cron", "interval", "rrule")


async def _update(request: Request, deployment_id: uuid.UUID, form: Form) -> None:
    """The form's changes, validated by the API's own update model; default parameters
    must pass the deployment's parameter schema (a required one may be left to each run)."""
    db = database(request)
    current = await core.read_deployment(db, deployment_id)
    body: dict[str, Any] = {
        "description": text_or_none(form, "description"),
        "tags": tag_list(form),
        "concurrency_limit": text_or_none(form, "concurrency_limit"),
        "parameters": json_object(form, "parameters"),
    }
    queue = text_or_none(form, "work_queue_name")
    if queue is not None and current["work_pool_name"] is not None:
        body["work_queue_name"] = queue
    changes = DeploymentUpdate.model_validate(body)
    schema = current["parameter_openapi_schema"]
    if current["enforce_parameter_schema"] and schema:
        try:
            check_parameters(schema, changes.parameters or {}, defaults=True)
        except InvalidInput as exc:
            raise FormProblem("parameters", exc.detail) from None
    await core.update_deployment(db, deployment_id, changes)


@router.post("/deployments/{raw_id}/edit")
async def edit(request: Request, raw_id: str) -> Response:
    form = await read_form(request)
    deployment_id = parse_id(raw_id, "Deployment")
    problems: Problems
    try:
        await _update(request, deployment_id, form)
    except FormProblem as exc:
        problems = {exc.field: exc.message}
    except ValidationError as exc:
        problems = problems_of(exc)
    except BatonError as exc:
        problems = refusal(exc, "form")
    else:
        nudge_scheduler(request)
        return redirect(request, f"/deployments/{deployment_id}", "Deployment saved.")
    draft = {name: form.get(name) for name in EDIT_FIELDS}
    return await render_deployment(
        request, deployment_id, edit=draft, problems=problems, status=422
    )


def _schedule(form: Form) -> ScheduleCreate:
    """A new schedule from the form: its kind, its expression or seconds, its time zone."""
    kind = form.get("kind")
    if kind not in SCHEDULE_KINDS:
        raise FormProblem("kind", "Choose cron, interval or rrule.")
    value: Any = form.get("value").strip()
    if not value:
        raise FormProblem("value", f"Enter the {kind} of the schedule.")
    if kind == "interval":
        try:
            value = float(value)
        except ValueError:
            raise FormProblem(
                "value", "The interval is a number of seconds, such as 3600."
            ) from None
    raw = {kind: value, "timezone": text_or_none(form, "timezone")}
    try:
        return ScheduleCreate.model_validate({"schedule": raw})
    except ValidationError as exc:
        message = next(iter(problems_of(exc).values()))
        field = "timezone" if message.startswith("timezone") else "value"
        raise FormProblem(field, message) from None


@router.post("/deployments/{raw_id}/schedules")
async def add_schedule(request: Request, raw_id: str) -> Response:
    form = await read_form(request)
    deployment_id = parse_id(raw_id, "Deployment")
    try:
        schedule = _schedule(form)
        await core.create_schedules(database(request), deployment_id, [schedule])
    except FormProblem as exc:
        problems = {exc.field: exc.message}
    except BatonError as exc:
        problems = refusal(exc, "value")
    else:
        nudge_scheduler(request)
        return redirect(request, f"/deployments/{deployment_id}", "Schedule added.")
    draft = {name: form.get(name) for name in ("kind", "value", "timezone")}
    return await render_deployment(
        request, deployment_id, schedule=draft, problems=problems, status=422
    )


@router.post("/deployments/{raw_id}/schedules/{schedule_id}")
async def change_schedule(request: Request, raw_id: str, schedule_id: str) -> Response:
    """Pause, resume or delete one schedule; its future runs go with it."""
    form = await read_form(request)
    deployment_id = parse_id(raw_id, "Deployment")
    sid = parse_id(schedule_id, "Schedule")
    action = form.get("action")
    db = database(request)
    back = f"/deployments/{deployment_id}"
    if action == "delete":
        await core.delete_schedule(db, deployment_id, sid)
        notice = "Schedule deleted; its future runs were removed."
    elif action in ("pause", "resume"):
        await core.update_schedule(
            db, deployment_id, sid, ScheduleUpdate(active=action == "resume")
        )
        notice = "Schedule resumed." if action == "resume" else "Schedule paused."
    else:
        return redirect(request, back, "Unknown action.", "error")
    nudge_scheduler(request)
    return redirect(request, back, notice)


@router.get("/deployments/{raw_id}/delete")
async def confirm_delete(request: Request, raw_id: str) -> Response:
    require(request, "deployment-delete")
    deployment = await core.read_deployment(database(request), parse_id(raw_id, "Deployment"))
    context = {
        "title": f"Delete deployment {deployment['name']}?",
        "message": "Its schedules and future scheduled runs are deleted with it; "
        "past runs are kept.",
        "action": f"/deployments/{deployment['id']}/delete",
        "button": "Delete deployment",
        "back": f"/deployments/{deployment['id']}",
    }
    return page(request, "pages/confirm.html", context)


@router.post("/deployments/{raw_id}/delete")
async def delete(request: Request, raw_id: str) -> Response:
    await read_form(request)
    deployment_id = parse_id(raw_id, "Deployment")
    await core.delete_deployment(database(request), deployment_id)
    return redirect(request, "/deployments", "Deployment deleted.")
