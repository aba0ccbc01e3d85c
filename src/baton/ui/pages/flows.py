"""Flows: the list (with deployments, runs and the last run of each) and one flow's page."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from baton.clock import utcnow
from baton.ui.charts import bar_chart
from baton.ui.gate import ui_router
from baton.ui.params import parse_id, query_offset
from baton.ui.queries import catalog as q
from baton.ui.queries.common import FR
from baton.ui.queries.dashboard import histogram
from baton.ui.rendering import page
from baton.ui.state import database

router = ui_router()


@router.get("/flows")
async def flow_list(request: Request) -> Response:
    text = request.query_params.get("q", "").strip()[:200]
    offset = query_offset(request)
    async with database(request).read() as conn:
        flows, more = await q.flow_list(conn, text, offset, utcnow())
    context = {"flows": flows, "more": more, "text": text, "offset": offset, "step": q.LIST_LIMIT}
    return page(request, "pages/flows.html", context)


@router.get("/flows/{raw_id}")
async def flow_page(request: Request, raw_id: str) -> Response:
    flow_id = parse_id(raw_id, "Flow")
    now = utcnow()
    async with database(request).read() as conn:
        flow = await q.read_flow(conn, flow_id)
        deployments, _ = await q.deployment_list(conn, "", flow_id, 0, now)
        upcoming, recent = await q.upcoming_and_recent(conn, FR.c.flow_id, flow_id, now)
        hist = await histogram(conn, now, "7d", [FR.c.flow_id == flow_id])
    context = {
        "flow": flow,
        "deployments": deployments,
        "upcoming": upcoming,
        "recent": recent,
        "chart": bar_chart(hist),
        "totals": hist.totals,
    }
    return page(request, "pages/flow.html", context)
