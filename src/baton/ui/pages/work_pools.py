"""Work pools: status, queues with priorities and limits, workers and their heartbeats,
runs waiting."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from baton.core.clock import utcnow
from baton.core.work_pools import read_work_pool
from baton.core.work_queues import filter_pool_queues
from baton.core.workers import filter_workers
from baton.schemas.work_pools import WorkerFilterBody, WorkQueueFilterBody
from baton.ui.queries import pools as q
from baton.ui.queries.dashboard import pools_with_counts
from baton.ui.web import database, page, ui_router

router = ui_router()


@router.get("/work-pools")
async def pool_list(request: Request) -> Response:
    async with database(request).read() as conn:
        pools = await conn.run_sync(pools_with_counts, 500)
    return page(request, "pages/work_pools.html", {"pools": pools})


@router.get("/work-pools/{name}")
async def pool_page(request: Request, name: str) -> Response:
    db = database(request)
    pool = await read_work_pool(db, name)
    queues = await filter_pool_queues(db, name, WorkQueueFilterBody(limit=200))
    workers = await filter_workers(db, name, WorkerFilterBody(limit=200))
    async with db.read() as conn:
        waiting, due, late = await q.waiting_runs(conn, pool["id"], utcnow())
    context = {
        "pool": pool,
        "queues": queues,
        "workers": workers,
        "waiting": waiting,
        "due": due,
        "late": late,
    }
    return page(request, "pages/work_pool.html", context)
