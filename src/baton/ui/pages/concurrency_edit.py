"""Changing concurrency limits from the UI: global limits (create, edit, reset their slots,
delete) and tag limits (set, reset, delete). Bodies go through the API's request models;
each action is one call of `core.concurrency` or `core.tag_limits`, as the API's are."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.responses import Response

from baton.core import concurrency, tag_limits
from baton.errors import BatonError
from baton.schemas.concurrency import LimitCreate, LimitUpdate, TagLimitCreate
from baton.ui.editing import Problems, checked, problems_of, refusal, text_or_none
from baton.ui.forms import Form, read_form
from baton.ui.gate import ui_router
from baton.ui.pages.concurrency import render_concurrency
from baton.ui.params import parse_id
from baton.ui.rendering import redirect
from baton.ui.state import database

router = ui_router()
BACK = "/concurrency"
LIMIT_FIELDS = ("name", "limit", "slot_decay_per_second")


def _limit_body(form: Form) -> dict[str, Any]:
    return {
        "name": form.get("name").strip(),
        "limit": form.get("limit").strip(),
        "slot_decay_per_second": text_or_none(form, "slot_decay_per_second") or 0.0,
        "active": checked(form, "active"),
    }


def _draft(form: Form) -> dict[str, str]:
    return {
        **{key: form.get(key) for key in LIMIT_FIELDS},
        "active": "on" if checked(form, "active") else "",
    }


@router.post("/concurrency/limits")
async def create_limit(request: Request) -> Response:
    form = await read_form(request)
    problems: Problems
    try:
        body = LimitCreate.model_validate(_limit_body(form))
        await concurrency.create_limit(
            database(request),
            body.name,
            body.limit,
            active=bool(body.active),
            slot_decay_per_second=body.slot_decay_per_second or 0.0,
        )
    except ValidationError as exc:
        problems = problems_of(exc)
    except BatonError as exc:
        problems = refusal(exc, "name")
    else:
        return redirect(request, BACK, f"Concurrency limit {body.name} created.")
    return await render_concurrency(
        request, form="limit-new", draft=_draft(form), problems=problems, status=422
    )


@router.post("/concurrency/limits/{raw_id}")
async def change_limit(request: Request, raw_id: str) -> Response:
    """Save, reset (no slot taken, none refused) or delete one global limit."""
    form = await read_form(request)
    limit_id = parse_id(raw_id, "Concurrency limit")
    db = database(request)
    action = form.get("action")
    if action == "delete":
        await concurrency.delete_limit(db, limit_id)
        return redirect(request, BACK, "Concurrency limit deleted.")
    if action == "reset":
        reset = LimitUpdate(active_slots=0, denied_slots=0)
        await concurrency.update_limit(db, limit_id, reset.changes())
        return redirect(request, BACK, "Concurrency limit reset: no slot is taken.")
    problems: Problems
    try:
        changes = LimitUpdate.model_validate(_limit_body(form)).changes()
        await concurrency.update_limit(db, limit_id, changes)
    except ValidationError as exc:
        problems = problems_of(exc)
    except BatonError as exc:
        problems = refusal(exc, "name")
    else:
        return redirect(request, BACK, "Concurrency limit saved.")
    return await render_concurrency(
        request, form=f"limit:{limit_id}", draft=_draft(form), problems=problems, status=422
    )


@router.post("/concurrency/tags")
async def tag_limit(request: Request) -> Response:
    """Set a tag's limit (creating it), or reset or delete it."""
    form = await read_form(request)
    db = database(request)
    action = form.get("action")
    tag = form.get("tag").strip()
    if action in ("delete", "reset"):
        if action == "delete":
            await tag_limits.delete_tag_limit(db, tag)
            return redirect(request, BACK, f"Tag limit {tag} deleted.")
        await tag_limits.reset_tag_limit(db, tag)
        return redirect(request, BACK, f"Tag limit {tag} reset: no task run holds a slot.")
    body = {"tag": tag, "concurrency_limit": form.get("concurrency_limit").strip()}
    try:
        valid = TagLimitCreate.model_validate(body)
    except ValidationError as exc:
        draft = {key: form.get(key) for key in body}
        return await render_concurrency(
            request, form="tag-new", draft=draft, problems=problems_of(exc), status=422
        )
    await tag_limits.upsert_tag_limit(db, valid.tag, valid.concurrency_limit)
    return redirect(request, BACK, f"Tag {valid.tag} limited to {valid.concurrency_limit}.")
