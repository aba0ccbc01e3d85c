"""Work pools: runs waiting in a pool, and the limits the concurrency page lists."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.core.work_queues import ACTIVE_STATES
from baton.db import tables as t
from baton.ui.queries.common import FR, is_state, select_runs


async def waiting_runs(
    conn: AsyncConnection, pool_id: uuid.UUID, now: dt.datetime, limit: int = 20
) -> tuple[list[dict[str, Any]], int, int]:
    """(the pool's Scheduled runs soonest first, how many are due now, how many are late)."""
    scheduled = [is_state(FR.c.state_type, "SCHEDULED"), FR.c.work_pool_id == pool_id]
    runs = await select_runs(
        conn, scheduled, (FR.c.expected_start_time.asc(), FR.c.id.asc()), limit, now
    )
    due_late = (
        await conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.sum(sa.case((is_state(FR.c.state_name, "Late"), 1), else_=0)),
            ).where(*scheduled, FR.c.expected_start_time <= now)
        )
    ).one()
    return runs, int(due_late[0] or 0), int(due_late[1] or 0)


async def limits(conn: AsyncConnection) -> dict[str, list[dict[str, Any]]]:
    """Deployments, pools and queues that have a concurrency limit, with the runs holding
    a slot now (runs PENDING, RUNNING or CANCELLING), counted by GROUP BY."""
    d, wp, wq = t.deployment, t.work_pool, t.work_queue
    deployments = [
        dict(r._mapping)
        for r in (
            await conn.execute(
                sa.select(d.c.id, d.c.name, t.flow.c.name.label("flow_name"), d.c.concurrency_limit)
                .join(t.flow, t.flow.c.id == d.c.flow_id)
                .where(d.c.concurrency_limit.is_not(None))
                .order_by(t.flow.c.name, d.c.name)
                .limit(500)
            )
        ).all()
    ]
    pools = [
        dict(r._mapping)
        for r in (
            await conn.execute(
                sa.select(wp.c.id, wp.c.name, wp.c.concurrency_limit)
                .where(wp.c.concurrency_limit.is_not(None))
                .order_by(wp.c.name)
                .limit(500)
            )
        ).all()
    ]
    queues = [
        dict(r._mapping)
        for r in (
            await conn.execute(
                sa.select(wq.c.id, wq.c.name, wq.c.concurrency_limit, wp.c.name.label("pool_name"))
                .join(wp, wp.c.id == wq.c.work_pool_id)
                .where(wq.c.concurrency_limit.is_not(None))
                .order_by(wp.c.name, wq.c.priority)
                .limit(500)
            )
        ).all()
    ]
    for rows, column in (
        (deployments, FR.c.deployment_id),
        (pools, FR.c.work_pool_id),
        (queues, FR.c.work_queue_id),
    ):
        if not rows:
            continue
        # Only the runs holding a slot, found on the state index and counted here: few
        # runs hold one, however many runs there are (a GROUP BY would walk `column`).
        holders = await conn.scalars(
            sa.select(column).where(is_state(FR.c.state_type, *ACTIVE_STATES), column.is_not(None))
        )
        active = Counter(holders)
        for r in rows:
            r["active"] = active.get(r["id"], 0)
    return {"deployments": deployments, "pools": pools, "queues": queues}
