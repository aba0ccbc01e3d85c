"""Flow runs: the filtered, keyset-paged list (its rows a live region), and its bulk cancel
and delete."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import Response

from baton.clock import utcnow
from baton.core.flow_runs import delete_flow_run, set_flow_run_state
from baton.errors import BatonError
from baton.orchestration.states import StateType
from baton.schemas.states import StateCreate
from baton.ui.format import STATE_TYPES
from baton.ui.forms import read_form
from baton.ui.gate import audit_object, ui_router
from baton.ui.params import parse_id, query_int
from baton.ui.queries import live
from baton.ui.queries import runs as q
from baton.ui.queries.common import COUNT_CAP
from baton.ui.rendering import live_partial, local_path, page, redirect
from baton.ui.state import database, event_bus

router = ui_router()
PAGE_SIZES = (25, 50, 100, 200)
MAX_BULK = 200


def base_query(request: Request) -> str:
    """The page's query string without its position, for pager links."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("after", "before")]
    return urllib.parse.urlencode(kept)


@dataclass(frozen=True)
class ListView:
    """What the URL asks of the list: its filters, order, page size and position."""

    filters: q.RunFilters
    sort: str
    limit: int
    after: str | None
    before: str | None

    @classmethod
    def of(cls, request: Request, now: dt.datetime) -> ListView:
        params = request.query_params
        sort = params.get("sort", "newest")
        return cls(
            filters=q.RunFilters.parse(params, now),
            sort=sort if sort in q.SORTS else "newest",
            limit=query_int(request, "limit", 50, PAGE_SIZES),
            after=params.get("after"),
            before=params.get("before"),
        )


async def _rows(request: Request, view: ListView, now: dt.datetime) -> dict[str, Any]:
    """The live region's context: the page of runs and how many match."""
    async with database(request).read() as conn:
        result = await q.run_page(
            conn, view.filters, view.sort, view.limit, view.after, view.before, now
        )
        total = await q.count_runs(conn, view.filters)
    return {
        "filters": view.filters,
        "result": result,
        "total": total,
        "capped": total > COUNT_CAP,
        "cap": COUNT_CAP,
        "base_query": base_query(request),
    }


@router.get("/runs")
async def run_list(request: Request) -> Response:
    now = utcnow()
    view = ListView.of(request, now)
    rows = await _rows(request, view, now)
    async with database(request).read() as conn:
        choices = await q.choices(conn)
    context = {
        **rows,
        "raw": request.query_params,
        "sort": view.sort,
        "sorts": q.SORT_LABELS,
        "limit": view.limit,
        "page_sizes": PAGE_SIZES,
        "states": [*STATE_TYPES, q.LATE],
        "ranges": list(q.RANGES),
        "choices": choices,
        "live_query": request.url.query,
    }
    return page(request, "pages/runs.html", context)


@router.get("/live/runs")
async def live_runs(request: Request) -> Response:
    """The list's rows for the same URL query: 304 while the runs on that page and the
    match count are as the browser has them."""
    now = utcnow()
    view = ListView.of(request, now)
    async with database(request).read() as conn:
        w = q.window(view.filters, view.sort, view.after, view.before, conn.dialect.name)
        token = await live.runs_token(conn, w, view.limit, now)

    async def context() -> dict[str, Any]:
        return await _rows(request, view, now)

    return await live_partial(request, token, "partials/run_list.html", context)


@router.post("/runs/bulk")
async def bulk(request: Request) -> Response:
    """Cancel or delete the runs ticked on a list page; one core call per run."""
    form = await read_form(request)
    back = local_path(form.get("return_to"), "/runs")
    ids = [parse_id(raw, "Flow run") for raw in form.getlist("run")[:MAX_BULK]]
    action = form.get("action")
    audit_object(request, "/runs/bulk: " + ", ".join(str(run_id) for run_id in ids))
    if not ids:
        return redirect(request, back, "No runs were selected.", "error")
    db = database(request)
    done, refused = 0, []
    if action == "cancel":
        async with db.read() as conn:
            active = await q.cancellable(conn, ids)
        refused += ["the run has already finished" for run_id in ids if run_id not in active]
        ids = [run_id for run_id in ids if run_id in active]
    for run_id in ids:
        try:
            if action == "delete":
                await delete_flow_run(db, run_id)
                done += 1
            elif action == "cancel":
                result = await set_flow_run_state(
                    db, event_bus(request), run_id, StateCreate(type=StateType.CANCELLING)
                )
                if result.decision.written:
                    done += 1
                else:
                    refused.append(result.decision.reason or "refused")
            else:
                return redirect(request, back, "Unknown action.", "error")
        except BatonError as exc:
            refused.append(exc.detail)
    verb = "Deleted" if action == "delete" else "Cancelled"
    text = f"{verb} {done} run{'s' if done != 1 else ''}."
    if refused:
        text += f" {len(refused)} refused: {refused[0]}"
    return redirect(request, back, text, "ok" if not refused else "error")
