"""The dashboard: runs by state over time, runs to look at first, active deployments,
work pools."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from baton.core.clock import utcnow
from baton.ui.charts import bar_chart
from baton.ui.queries import dashboard as q
from baton.ui.web import database, page, ui_router

router = ui_router()


@router.get("/")
async def dashboard(request: Request) -> Response:
    window = request.query_params.get("window", "24h")
    if window not in q.WINDOWS:
        window = "24h"
    now = utcnow()
    async with database(request).read() as conn:
        hist = await q.histogram(conn, now, window)
        attention = await q.attention(conn, now)
        deployments = await q.active_deployments(conn, now)
        pools = await conn.run_sync(q.pools_with_counts)
    context = {
        "window": window,
        "windows": list(q.WINDOWS),
        "chart": bar_chart(hist),
        "totals": hist.totals,
        "failed": attention["failed"],
        "late": attention["late"],
        "deployments": deployments,
        "pools": pools,
    }
    return page(request, "pages/dashboard.html", context)
