"""Concurrency limits: global and tag limits (core), and the limits of deployments, work
pools and queues, with the slots in use. The forms that change them are in
`concurrency_edit.py`."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from baton.core.concurrency import filter_limits
from baton.ui.editing import Problems
from baton.ui.gate import ui_router
from baton.ui.queries import pools as q
from baton.ui.rendering import page
from baton.ui.state import database

router = ui_router()
NEW_LIMIT = {"name": "", "limit": "", "slot_decay_per_second": "", "active": "on"}
NEW_TAG = {"tag": "", "concurrency_limit": ""}


async def render_concurrency(
    request: Request,
    *,
    form: str = "",
    draft: dict[str, str] | None = None,
    problems: Problems | None = None,
    status: int = 200,
) -> Response:
    """The page; `form` names the form a refusal came from ("limit-new", "limit:<id>" or
    "tag-new"), shown open with `draft` and its `problems`."""
    db = database(request)
    limits = await filter_limits(db, 500, 0)
    async with db.read() as conn:
        found = await q.limits(conn)
    context = {
        "global_limits": [lim for lim in limits if not lim["name"].startswith("tag:")],
        "tag_limits": [lim for lim in limits if lim["name"].startswith("tag:")],
        "form": form,
        "new_limit": draft if form == "limit-new" and draft else NEW_LIMIT,
        "new_tag": draft if form == "tag-new" and draft else NEW_TAG,
        "limit_edit": draft if form.startswith("limit:") and draft else {},
        "problems": problems or {},
        **found,
    }
    return page(request, "pages/concurrency.html", context, status=status)


@router.get("/concurrency")
async def concurrency(request: Request) -> Response:
    return await render_concurrency(request)
