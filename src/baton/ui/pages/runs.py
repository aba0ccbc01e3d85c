"""Flow runs: the filtered, keyset-paged list, and its bulk cancel and delete."""

from __future__ import annotations

import urllib.parse

from fastapi import Request
from starlette.responses import Response

from baton.core.clock import utcnow
from baton.core.flow_runs import delete_flow_run, set_flow_run_state
from baton.errors import BatonError
from baton.orchestration.states import StateType
from baton.schemas.states import StateCreate
from baton.ui.format import STATE_TYPES
from baton.ui.queries import runs as q
from baton.ui.queries.common import COUNT_CAP
from baton.ui.web import (
    audit_object,
    database,
    event_bus,
    local_path,
    page,
    parse_id,
    query_int,
    read_form,
    redirect,
    ui_router,
)

router = ui_router()
PAGE_SIZES = (25, 50, 100, 200)
MAX_BULK = 200


def base_query(request: Request) -> str:
    """The page's query string without its position, for pager links."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("after", "before")]
    return urllib.parse.urlencode(kept)


@router.get("/runs")
async def run_list(request: Request) -> Response:
    now = utcnow()
    params = request.query_params
    filters = q.RunFilters.parse(params, now)
    sort = params.get("sort", "newest")
    if sort not in q.SORTS:
        sort = "newest"
    limit = query_int(request, "limit", 50, PAGE_SIZES)
    async with database(request).read() as conn:
        result = await q.run_page(
            conn, filters, sort, limit, params.get("after"), params.get("before"), now
        )
        total = await q.count_runs(conn, filters)
        choices = await q.choices(conn)
    context = {
        "filters": filters,
        "raw": params,
        "sort": sort,
        "sorts": q.SORT_LABELS,
        "limit": limit,
        "page_sizes": PAGE_SIZES,
        "result": result,
        "total": total,
        "capped": total > COUNT_CAP,
        "cap": COUNT_CAP,
        "states": [*STATE_TYPES, q.LATE],
        "ranges": list(q.RANGES),
        "choices": choices,
        "base_query": base_query(request),
    }
    return page(request, "pages/runs.html", context)


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
