"""Version tokens of the live lists: narrow, index-backed reads whose answer changes
whenever what a live region shows changes. An unchanged token lets the region answer 304
without reading its rows or rendering them (see `web.live_partial`).

A run's `updated` moves with every change of its state, name or tags; a count moves when
runs come or go. Shown times that move by themselves (a running run's duration, the bars
of the dashboard's histogram) add a tick of the clock to the token.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Hashable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.core.workers import online_clause
from baton.db import tables as t
from baton.errors import NotFound
from baton.ui.queries.common import FR, capped_count
from baton.ui.queries.dashboard import WINDOWS
from baton.ui.queries.runs import Window

# A running run's duration is refreshed this often (seconds) while it is on screen.
DURATION_TICK = 10
# States whose runs the dashboard and pool pages count: waiting, late or holding a slot.
OPEN_STATES = ("SCHEDULED", "PENDING", "RUNNING", "CANCELLING")


def _tick(now: dt.datetime, seconds: float) -> int:
    return int(now.timestamp() // seconds)


def _stats(table: sa.Table, *where: sa.ColumnElement[bool]) -> list[Any]:
    """count(*) and max(updated) of `table` where `where`, as scalar subqueries."""
    return [
        sa.select(sa.func.count()).select_from(table).where(*where).scalar_subquery(),
        sa.select(sa.func.max(table.c.updated)).where(*where).scalar_subquery(),
    ]


async def runs_token(conn: AsyncConnection, w: Window, limit: int, now: dt.datetime) -> Hashable:
    """The page's rows (ids and last change, on the list's own index) and the match count."""
    stmt = sa.select(FR.c.id, FR.c.updated, FR.c.state_type).where(*w.where).order_by(*w.order)
    rows = (await conn.execute(stmt.limit(limit + 1))).all()
    running = any(r.state_type == "RUNNING" for r in rows)
    total = await capped_count(conn, FR, w.where)
    shown = tuple((r.id, r.updated) for r in rows)
    return shown, total, _tick(now, DURATION_TICK) if running else None


async def dashboard_token(conn: AsyncConnection, now: dt.datetime, window: str) -> Hashable:
    """Runs of the chart's window, open runs (late, waiting, holding slots), pools, their
    workers online, deployments; and which bar of the chart `now` falls in. One query."""
    span, bars = WINDOWS[window]
    online = online_clause(conn.dialect.name, now)
    parts = [
        *_stats(FR, FR.c.expected_start_time >= now - span),
        *_stats(FR, FR.c.state_type.in_(OPEN_STATES)),
        *_stats(t.work_pool),
        *_stats(t.deployment),
        sa.select(sa.func.count()).select_from(t.worker).scalar_subquery(),
        sa.select(sa.func.count()).select_from(t.worker).where(online).scalar_subquery(),
    ]
    row = (await conn.execute(sa.select(*parts))).one()
    return tuple(row), _tick(now, (span / bars).total_seconds())


async def pool_waiting_token(
    conn: AsyncConnection, pool_name: str, now: dt.datetime
) -> tuple[uuid.UUID, Hashable]:
    """(the pool's id, the version of its runs waiting: its Scheduled runs and how many
    are due by now)."""
    pool_id = await conn.scalar(sa.select(t.work_pool.c.id).where(t.work_pool.c.name == pool_name))
    if pool_id is None:
        raise NotFound(f'Work pool "{pool_name}" not found.')
    scheduled = [FR.c.state_type == "SCHEDULED", FR.c.work_pool_id == pool_id]
    due = FR.c.expected_start_time <= now
    parts: Sequence[Any] = [
        *_stats(FR, *scheduled),
        sa.select(sa.func.count()).select_from(FR).where(*scheduled, due).scalar_subquery(),
    ]
    row = (await conn.execute(sa.select(*parts))).one()
    return pool_id, tuple(row)
