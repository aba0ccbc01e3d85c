"""Concurrency limits: global and tag limits (core), and the limits of deployments, work
pools and queues, with the slots in use."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from baton.core.concurrency import filter_limits
from baton.ui.queries import pools as q
from baton.ui.web import database, page, ui_router

router = ui_router()


@router.get("/concurrency")
async def concurrency(request: Request) -> Response:
    db = database(request)
    limits = await filter_limits(db, 500, 0)
    async with db.read() as conn:
        found = await q.limits(conn)
    context = {
        "global_limits": [lim for lim in limits if not lim["name"].startswith("tag:")],
        "tag_limits": [lim for lim in limits if lim["name"].startswith("tag:")],
        **found,
    }
    return page(request, "pages/concurrency.html", context)
