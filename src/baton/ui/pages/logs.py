"""Logs: a search across every run's logs (by text, level, flow, run and time)."""

from __future__ import annotations

import urllib.parse

from fastapi import Request
from starlette.responses import Response

from baton.clock import utcnow
from baton.ui.format import LEVELS
from baton.ui.gate import ui_router
from baton.ui.params import query_int
from baton.ui.queries import logs as q
from baton.ui.queries.runs import RANGES, choices, parse_time, parse_uuid
from baton.ui.rendering import page
from baton.ui.state import database

router = ui_router()


@router.get("/logs")
async def log_search(request: Request) -> Response:
    params = request.query_params
    now = utcnow()
    text = params.get("q", "").strip()[:200]
    level = query_int(request, "level", 0, (0, *(value for value, _ in LEVELS)))
    flow_id = parse_uuid(params.get("flow", ""))
    run_id = parse_uuid(params.get("run", ""))
    window = params.get("range", "")
    since = now - RANGES[window] if window in RANGES else parse_time(params.get("from", ""))
    until = None if window in RANGES else parse_time(params.get("to", ""))
    async with database(request).read() as conn:
        result = await q.search_logs(
            conn,
            text=text,
            level=level,
            flow_id=flow_id,
            run_id=run_id,
            since=since,
            until=until,
            after=params.get("after"),
            before=params.get("before"),
            limit=100,
        )
        flows = (await choices(conn))["flows"]
    kept = [(k, v) for k, v in params.multi_items() if k not in ("after", "before")]
    context = {
        "result": result,
        "text": text,
        "level": level,
        "levels": LEVELS,
        "flow_id": flow_id,
        "run_id": run_id,
        "flows": flows,
        "window": window if window in RANGES else "",
        "ranges": list(RANGES),
        "raw": params,
        "base_query": urllib.parse.urlencode(kept),
    }
    return page(request, "pages/logs.html", context)
