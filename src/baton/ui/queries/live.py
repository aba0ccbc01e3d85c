"""Version tokens of the live lists: narrow, index-backed reads whose answer changes
whenever what a live region shows changes. An unchanged token lets the region answer 304
without reading its rows or rendering them (see `web.live_partial`).

A run's `updated` moves with every change of its state, name or tags; counts per state
move when runs come, go or change state, and are read from an index alone. Shown things
that move with time (a running run's duration, the bars of the dashboard's chart, runs
turning Late) add a tick of the clock to the token. Renaming a run that only the dashboard
shows is not seen until something else changes; everything else is.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Hashable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.core.workers import online_clause
from baton.db import tables as t
from baton.errors import NotFound
from baton.ui.format import STATE_TYPES
from baton.ui.queries.common import FR, capped_count, is_state
from baton.ui.queries.dashboard import WINDOWS
from baton.ui.queries.runs import Window

# A running run's duration is refreshed this often (seconds) while it is on screen.
DURATION_TICK = 10
# States whose runs the dashboard counts: waiting, late or holding a slot.
OPEN_STATES = ("SCHEDULED", "PENDING", "RUNNING", "CANCELLING")
# While runs are past due, the dashboard's late runs are looked at again this often (s).
LATE_TICK = 30


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


def _per_state(*where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """Runs per state type: answered from the (state_type, expected_start_time) index alone."""
    return sa.select(FR.c.state_type, sa.func.count()).where(*where).group_by(FR.c.state_type)


async def dashboard_token(conn: AsyncConnection, now: dt.datetime, window: str) -> Hashable:
    """Runs per state in the chart's window and open runs per state (a run that changes
    state moves between counts), all on one index; pools, deployments and workers online;
    which bar of the chart `now` falls in; and, while Scheduled runs are past due (the
    late-runs service may rename them Late), a tick of the clock."""
    span, bars = WINDOWS[window]
    since = now - span
    in_window = await conn.execute(
        _per_state(is_state(FR.c.state_type, *STATE_TYPES), FR.c.expected_start_time >= since)
    )
    still_open = await conn.execute(_per_state(is_state(FR.c.state_type, *OPEN_STATES)))
    online = online_clause(conn.dialect.name, now)
    due = [is_state(FR.c.state_type, "SCHEDULED"), FR.c.expected_start_time < now]
    parts = [
        *_stats(t.work_pool),
        *_stats(t.deployment),
        sa.select(sa.func.count()).select_from(t.worker).scalar_subquery(),
        sa.select(sa.func.count()).select_from(t.worker).where(online).scalar_subquery(),
        sa.select(sa.func.count()).select_from(FR).where(*due).scalar_subquery(),
    ]
    row = tuple((await conn.execute(sa.select(*parts))).one())
    overdue = row[-1] > 0
    return (
        sorted(in_window.all()),
        sorted(still_open.all()),
        row,
        _tick(now, (span / bars).total_seconds()),
        _tick(now, LATE_TICK) if overdue else None,
    )


async def pool_waiting_token(
    conn: AsyncConnection, pool_name: str, now: dt.datetime, shown: int
) -> tuple[uuid.UUID, Hashable]:
    """(the pool's id, the version of its runs waiting: the `shown` soonest Scheduled runs
    and their last change, and how many are due and late by now)."""
    pool_id = await conn.scalar(sa.select(t.work_pool.c.id).where(t.work_pool.c.name == pool_name))
    if pool_id is None:
        raise NotFound(f'Work pool "{pool_name}" not found.')
    scheduled = [is_state(FR.c.state_type, "SCHEDULED"), FR.c.work_pool_id == pool_id]
    soonest = (
        sa.select(FR.c.id, FR.c.updated)
        .where(*scheduled)
        .order_by(FR.c.expected_start_time, FR.c.id)
        .limit(shown)
    )
    rows = tuple(tuple(r) for r in await conn.execute(soonest))
    late = sa.func.sum(sa.case((is_state(FR.c.state_name, "Late"), 1), else_=0))
    counts = sa.select(sa.func.count(), late).where(*scheduled, FR.c.expected_start_time <= now)
    return pool_id, (rows, tuple((await conn.execute(counts)).one()))
