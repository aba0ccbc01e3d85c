"""Changing work pools and their queues from the UI: create a pool, edit its description
and concurrency limit, pause or resume it, delete it after a confirmation; create, edit,
pause, resume and delete its queues. Bodies go through the API's request models and each
action is one call of `core.work_pools` or `core.work_queues`, as the API's are. The core's
refusals (a name taken, the pool's default queue) come back as messages."""

from __future__ import annotations

import urllib.parse
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.responses import Response

from baton.core import work_pools, work_queues
from baton.errors import BatonError
from baton.schemas.work_pools import (
    WorkPoolCreate,
    WorkPoolUpdate,
    WorkQueueCreate,
    WorkQueueUpdate,
)
from baton.ui.auth import require
from baton.ui.editing import Problems, problems_of, refusal, text_or_none
from baton.ui.forms import Form, read_form
from baton.ui.gate import ui_router
from baton.ui.pages.work_pools import render_pool, render_pools
from baton.ui.rendering import page, redirect
from baton.ui.state import database

router = ui_router()
POOL_FIELDS = ("name", "type", "description", "concurrency_limit")
QUEUE_FIELDS = ("name", "priority", "concurrency_limit", "description")


def pool_path(name: str) -> str:
    return "/work-pools/" + urllib.parse.quote(name, safe="")


def _job_template(pool_type: str) -> dict[str, Any]:
    """The default job template of a worker type Baton describes ({} for others: the
    worker fills it in when it joins)."""
    for types in work_pools.worker_types().values():
        if pool_type in types:
            template: dict[str, Any] = types[pool_type]["default_base_job_configuration"]
            return template
    return {}


@router.post("/work-pools")
async def create_pool(request: Request) -> Response:
    form = await read_form(request)
    pool_type = form.get("type").strip() or "process"
    body = {
        "name": form.get("name").strip(),
        "type": pool_type,
        "description": text_or_none(form, "description"),
        "concurrency_limit": text_or_none(form, "concurrency_limit"),
        "base_job_template": _job_template(pool_type),
    }
    problems: Problems
    try:
        valid = WorkPoolCreate.model_validate(body)
        await work_pools.create_work_pool(database(request), valid)
    except ValidationError as exc:
        problems = problems_of(exc)
    except BatonError as exc:
        problems = refusal(exc, "name")
    else:
        return redirect(request, pool_path(valid.name), f"Work pool {valid.name} created.")
    draft = {name: form.get(name) for name in POOL_FIELDS}
    return await render_pools(request, draft, problems, 422)


@router.post("/work-pools/{name}/edit")
async def edit_pool(request: Request, name: str) -> Response:
    form = await read_form(request)
    body = {
        "description": text_or_none(form, "description"),
        "concurrency_limit": text_or_none(form, "concurrency_limit"),
    }
    try:
        changes = WorkPoolUpdate.model_validate(body).changes()
        await work_pools.update_work_pool(database(request), name, changes)
    except ValidationError as exc:
        draft = {key: form.get(key) for key in body}
        return await render_pool(
            request, name, form="pool", draft=draft, problems=problems_of(exc), status=422
        )
    return redirect(request, pool_path(name), "Work pool saved.")


@router.post("/work-pools/{name}/pause")
async def pause_pool(request: Request, name: str) -> Response:
    form = await read_form(request)
    paused = form.get("paused") == "true"
    await work_pools.update_work_pool(database(request), name, {"is_paused": paused})
    notice = "Work pool paused: its workers get no runs." if paused else "Work pool resumed."
    return redirect(request, pool_path(name), notice)


@router.get("/work-pools/{name}/delete")
async def confirm_delete_pool(request: Request, name: str) -> Response:
    require(request, "pool-delete")
    pool = await work_pools.read_work_pool(database(request), name)
    context = {
        "title": f"Delete work pool {pool['name']}?",
        "message": "Its queues and workers are deleted with it. Its deployments keep their "
        "queue's name but get no runs until a pool of that name exists; past runs are kept.",
        "action": pool_path(pool["name"]) + "/delete",
        "button": "Delete work pool",
        "back": pool_path(pool["name"]),
    }
    return page(request, "pages/confirm.html", context)


@router.post("/work-pools/{name}/delete")
async def delete_pool(request: Request, name: str) -> Response:
    await read_form(request)
    await work_pools.delete_work_pool(database(request), name)
    return redirect(request, "/work-pools", f"Work pool {name} deleted.")


def _queue_body(form: Form, *, with_name: bool) -> dict[str, Any]:
    body = {
        "priority": text_or_none(form, "priority"),
        "concurrency_limit": text_or_none(form, "concurrency_limit"),
        "description": text_or_none(form, "description"),
    }
    if with_name:
        body["name"] = form.get("name").strip()
    return body


@router.post("/work-pools/{name}/queues")
async def create_queue(request: Request, name: str) -> Response:
    form = await read_form(request)
    problems: Problems
    try:
        valid = WorkQueueCreate.model_validate(_queue_body(form, with_name=True))
        await work_queues.create_work_queue(database(request), name, valid)
    except ValidationError as exc:
        problems = problems_of(exc)
    except BatonError as exc:
        problems = refusal(exc, "name")
    else:
        return redirect(request, pool_path(name), f"Work queue {valid.name} created.")
    draft = {key: form.get(key) for key in QUEUE_FIELDS}
    return await render_pool(
        request, name, form="new-queue", draft=draft, problems=problems, status=422
    )


@router.post("/work-pools/{name}/queues/{queue_name}")
async def change_queue(request: Request, name: str, queue_name: str) -> Response:
    """Save, pause, resume or delete one queue; the core refuses to delete the default
    queue, and that refusal is shown as the notice."""
    form = await read_form(request)
    db = database(request)
    action = form.get("action")
    if action == "delete":
        try:
            await work_queues.delete_work_queue(db, name, queue_name)
        except BatonError as exc:
            if exc.status_code == 404:
                raise
            return redirect(request, pool_path(name), f"Not deleted: {exc.detail}", "error")
        return redirect(request, pool_path(name), f"Work queue {queue_name} deleted.")
    if action in ("pause", "resume"):
        changes: dict[str, Any] = {"is_paused": action == "pause"}
        await work_queues.update_work_queue(db, name, queue_name, changes)
        verb = "paused" if action == "pause" else "resumed"
        return redirect(request, pool_path(name), f"Work queue {queue_name} {verb}.")
    body = _queue_body(form, with_name=False)
    if body["priority"] is None:
        del body["priority"]  # an empty priority keeps the queue's place
    problems: Problems
    try:
        changes = WorkQueueUpdate.model_validate(body).changes()
        await work_queues.update_work_queue(db, name, queue_name, changes)
    except ValidationError as exc:
        problems = problems_of(exc)
    except BatonError as exc:
        problems = refusal(exc, "form")
    else:
        return redirect(request, pool_path(name), f"Work queue {queue_name} saved.")
    draft = {key: form.get(key) for key in QUEUE_FIELDS if key != "name"}
    return await render_pool(
        request, name, form=f"queue:{queue_name}", draft=draft, problems=problems, status=422
    )
