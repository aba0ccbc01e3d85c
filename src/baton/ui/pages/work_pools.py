"""Work pools: the list (with the form that creates one), and one pool's page: status,
queues with priorities and limits, workers and their heartbeats, runs waiting (a live
region), and its edit forms. The edit actions are in `pool_edit.py`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from starlette.responses import Response

from baton.clock import utcnow
from baton.core.work_pools import read_work_pool
from baton.core.work_queues import filter_pool_queues
from baton.core.workers import filter_workers
from baton.schemas.work_pools import WorkerFilterBody, WorkQueueFilterBody
from baton.ui.editing import Problems
from baton.ui.gate import ui_router
from baton.ui.queries import live
from baton.ui.queries import pools as q
from baton.ui.queries.dashboard import pools_with_counts
from baton.ui.rendering import live_partial, page
from baton.ui.state import database

router = ui_router()
NEW_POOL = {"name": "", "type": "process", "description": "", "concurrency_limit": ""}
WAITING_SHOWN = 20  # the pool's soonest Scheduled runs on its page
NEW_QUEUE = {"name": "", "priority": "", "concurrency_limit": "", "description": ""}


async def render_pools(
    request: Request,
    draft: dict[str, str] | None = None,
    problems: Problems | None = None,
    status: int = 200,
) -> Response:
    async with database(request).read() as conn:
        pools = await conn.run_sync(pools_with_counts, 500)
    context = {"pools": pools, "draft": draft or NEW_POOL, "problems": problems or {}}
    return page(request, "pages/work_pools.html", context, status=status)


@router.get("/work-pools")
async def pool_list(request: Request) -> Response:
    return await render_pools(request)


def pool_draft(pool: dict[str, Any]) -> dict[str, str]:
    limit = pool["concurrency_limit"]
    return {
        "description": pool["description"] or "",
        "concurrency_limit": "" if limit is None else str(limit),
    }


async def _waiting(request: Request, pool_id: Any, now: dt.datetime) -> dict[str, Any]:
    async with database(request).read() as conn:
        waiting, due, late = await q.waiting_runs(conn, pool_id, now, WAITING_SHOWN)
    return {"waiting": waiting, "due": due, "late": late}


async def render_pool(
    request: Request,
    name: str,
    *,
    form: str = "",
    draft: dict[str, str] | None = None,
    problems: Problems | None = None,
    status: int = 200,
) -> Response:
    """A pool's page. `form` names the form a refusal came from ("pool", "new-queue" or
    "queue:<name>"): that one is shown open with `draft` and its `problems`."""
    db = database(request)
    pool = await read_work_pool(db, name)
    queues = await filter_pool_queues(db, name, WorkQueueFilterBody(limit=200))
    workers = await filter_workers(db, name, WorkerFilterBody(limit=200))
    context = {
        "pool": pool,
        "queues": queues,
        "workers": workers,
        "form": form,
        "pool_edit": draft if form == "pool" and draft else pool_draft(pool),
        "new_queue": draft if form == "new-queue" and draft else NEW_QUEUE,
        "queue_edit": draft if form.startswith("queue:") and draft else {},
        "problems": problems or {},
        **await _waiting(request, pool["id"], utcnow()),
    }
    return page(request, "pages/work_pool.html", context, status=status)


@router.get("/work-pools/{name}")
async def pool_page(request: Request, name: str) -> Response:
    return await render_pool(request, name)


@router.get("/work-pools/{name}/live/waiting")
async def live_waiting(request: Request, name: str) -> Response:
    """The pool's runs waiting: 304 while its scheduled runs are as the browser has them."""
    now = utcnow()
    async with database(request).read() as conn:
        pool_id, token = await live.pool_waiting_token(conn, name, now, WAITING_SHOWN)

    async def context() -> dict[str, Any]:
        return await _waiting(request, pool_id, now)

    return await live_partial(request, token, "partials/pool_waiting.html", context)
