"""Variables: list and search, create, edit and delete. Values are JSON; names and values go
through the API's own request models, so the UI refuses exactly what the API refuses."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from fastapi import Request
from pydantic import ValidationError
from starlette.responses import Response

from baton.core import variables as core
from baton.errors import BatonError
from baton.schemas.filters import TextFilter
from baton.schemas.variables import VariableCreate, VariableFilter, VariableSort, VariableUpdate
from baton.ui.format import pretty_json
from baton.ui.forms import Form, read_form
from baton.ui.gate import ui_router
from baton.ui.params import parse_id, query_offset
from baton.ui.rendering import page, redirect
from baton.ui.state import database

router = ui_router()
STEP = 100


def _fields(form: Form) -> dict[str, Any]:
    """The form as a request body."""
    body: dict[str, Any] = {"name": form.get("name").strip()}
    raw = form.get("value").strip()
    try:
        body["value"] = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        # Plain words are meant as text: what a person types is rarely quoted JSON.
        body["value"] = raw
    body["tags"] = [tag.strip() for tag in form.get("tags").split(",") if tag.strip()]
    return body


def _problems(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "name"
        out.setdefault(field, str(error["msg"]).removeprefix("Value error, "))
    return out


async def _list_page(
    request: Request, draft: dict[str, str] | None = None, problems: dict[str, str] | None = None
) -> Response:
    text = request.query_params.get("q", "").strip()[:255]
    offset = query_offset(request)
    flt = VariableFilter(name=TextFilter(like_=text)) if text else None
    db = database(request)
    rows = await core.filter_variables(db, flt, VariableSort.NAME_ASC, STEP + 1, offset)
    context = {
        "variables": rows[:STEP],
        "more": len(rows) > STEP,
        "offset": offset,
        "step": STEP,
        "text": text,
        "draft": draft or {"name": "", "value": "", "tags": ""},
        "problems": problems or {},
    }
    return page(request, "pages/variables.html", context, status=422 if problems else 200)


@router.get("/variables")
async def variable_list(request: Request) -> Response:
    return await _list_page(request)


@router.post("/variables")
async def create(request: Request) -> Response:
    form = await read_form(request)
    body = _fields(form)
    draft = {"name": form.get("name"), "value": form.get("value"), "tags": form.get("tags")}
    try:
        valid = VariableCreate.model_validate(body)
        await core.create_variable(database(request), valid.name, valid.value, valid.tags or [])
    except ValidationError as exc:
        return await _list_page(request, draft, _problems(exc))
    except BatonError as exc:
        return await _list_page(request, draft, {"name": exc.detail})
    return redirect(request, "/variables", f"Variable {valid.name} created.")


async def _edit_page(
    request: Request,
    variable_id: uuid.UUID,
    draft: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
) -> Response:
    variable = await core.read_variable(database(request), variable_id)
    if draft is None:
        value = variable["value"]
        draft = {
            "name": variable["name"],
            "value": pretty_json(value),
            "tags": ", ".join(variable["tags"]),
        }
    context = {"v": variable, "draft": draft, "problems": problems or {}}
    return page(request, "pages/variable.html", context, status=422 if problems else 200)


@router.get("/variables/{raw_id}")
async def edit_page(request: Request, raw_id: str) -> Response:
    return await _edit_page(request, parse_id(raw_id, "Variable"))


@router.post("/variables/{raw_id}")
async def update(request: Request, raw_id: str) -> Response:
    form = await read_form(request)
    variable_id = parse_id(raw_id, "Variable")
    if form.get("action") == "delete":
        await core.delete_variable(database(request), variable_id)
        return redirect(request, "/variables", "Variable deleted.")
    body = _fields(form)
    draft = {"name": form.get("name"), "value": form.get("value"), "tags": form.get("tags")}
    try:
        valid = VariableUpdate.model_validate(body)
        await core.update_variable(database(request), variable_id, valid.changes())
    except ValidationError as exc:
        return await _edit_page(request, variable_id, draft, _problems(exc))
    except BatonError as exc:
        if exc.status_code == 404:
            raise
        return await _edit_page(request, variable_id, draft, {"name": exc.detail})
    return redirect(request, f"/variables/{variable_id}", "Variable saved.")
