"""The dashboard: runs by state over time, runs to look at first, active deployments,
work pools; all of it one live region."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from starlette.responses import Response

from baton.clock import utcnow
from baton.ui.charts import bar_chart
from baton.ui.gate import ui_router
from baton.ui.queries import dashboard as q
from baton.ui.queries import live
from baton.ui.rendering import live_partial, page
from baton.ui.state import database

router = ui_router()


def _window(request: Request) -> str:
    window = request.query_params.get("window", "24h")
    return window if window in q.WINDOWS else "24h"


async def _body(request: Request, window: str, now: dt.datetime) -> dict[str, Any]:
    async with database(request).read() as conn:
        hist = await q.histogram(conn, now, window)
        attention = await q.attention(conn, now)
        deployments = await q.active_deployments(conn, now)
        pools = await conn.run_sync(q.pools_with_counts)
    return {
        "window": window,
        "chart": bar_chart(hist),
        "totals": hist.totals,
        "failed": attention["failed"],
        "late": attention["late"],
        "deployments": deployments,
        "pools": pools,
    }


@router.get("/")
async def dashboard(request: Request) -> Response:
    window = _window(request)
    context = {"windows": list(q.WINDOWS), **await _body(request, window, utcnow())}
    return page(request, "pages/dashboard.html", context)


@router.get("/live/dashboard")
async def live_dashboard(request: Request) -> Response:
    """The dashboard's body: 304 while nothing it counts has changed."""
    window = _window(request)
    now = utcnow()
    async with database(request).read() as conn:
        token = await live.dashboard_token(conn, now, window)

    async def context() -> dict[str, Any]:
        return await _body(request, window, now)

    return await live_partial(request, token, "partials/dashboard_body.html", context)
