"""The audit log, for admins: every change made through the API or the UI while access
control is on (who, role, action, object, outcome, from where), newest first, by actor
and time."""

from __future__ import annotations

import urllib.parse

from fastapi import Request
from starlette.responses import Response

from baton.clock import utcnow
from baton.ui.auth import require
from baton.ui.gate import ui_router
from baton.ui.queries import audit as q
from baton.ui.queries.runs import RANGES
from baton.ui.rendering import page
from baton.ui.state import database

router = ui_router()


@router.get("/audit")
async def audit_log(request: Request) -> Response:
    require(request, "audit")
    params = request.query_params
    actor = params.get("actor", "").strip()[:255]
    since = params.get("since", "")
    if since not in RANGES:
        since = ""
    start = utcnow() - RANGES[since] if since else None
    async with database(request).read() as conn:
        result = await q.audit_page(conn, actor, start, params.get("after"), params.get("before"))
    kept = [(k, v) for k, v in params.multi_items() if k not in ("after", "before")]
    context = {
        "result": result,
        "actor": actor,
        "since": since,
        "ranges": list(RANGES),
        "base_query": urllib.parse.urlencode(kept),
    }
    return page(request, "pages/audit.html", context)
