"""The dashboard's reads: runs by state per time bucket (one GROUP BY), the runs to look at
first, recently active deployments, work pools."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.core.work_pools import read_pools
from baton.db import tables as t
from baton.ui.format import STATE_TYPES
from baton.ui.queries.common import FR, is_state, select_runs

WINDOWS = {
    "24h": (dt.timedelta(hours=24), 24),  # window, number of bars
    "7d": (dt.timedelta(days=7), 28),
}


@dataclass(frozen=True)
class Histogram:
    start: dt.datetime
    width: dt.timedelta
    buckets: int
    # counts[bucket][state_type]
    counts: list[dict[str, int]]

    @property
    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for bucket in self.counts:
            for state, n in bucket.items():
                out[state] = out.get(state, 0) + n
        return out


def _bucket(start: dt.datetime, width: dt.timedelta) -> sa.ColumnElement[int]:
    """PostgreSQL: a run's bucket from its time. date_part gives a double (EXTRACT gives a
    numeric since PostgreSQL 14, and it took an interval here): half the time."""
    epoch = sa.func.date_part("epoch", FR.c.expected_start_time, type_=sa.Float)
    elapsed = epoch - sa.literal(start.timestamp(), sa.Float)
    return sa.cast(sa.func.floor(elapsed / width.total_seconds()), sa.Integer)


def _per_bucket(
    edges: Sequence[dt.datetime], *where: sa.ColumnElement[bool]
) -> sa.CompoundSelect[Any]:
    """SQLite: runs per state type in each [edges[i], edges[i + 1]) (bucket i), one range
    of the index per bucket counted as it is walked: no function of each run's time (SQLite
    parsed every time's text, twice as slow over 20,000 runs)."""
    parts = [
        sa.select(sa.literal(i, sa.Integer).label("bucket"), FR.c.state_type, sa.func.count())
        .where(*where, FR.c.expected_start_time >= low, FR.c.expected_start_time < high)
        .group_by(FR.c.state_type)
        for i, (low, high) in enumerate(itertools.pairwise(edges))
    ]
    return sa.union_all(*parts)


async def histogram(
    conn: AsyncConnection,
    now: dt.datetime,
    window: str = "24h",
    where: Sequence[sa.ColumnElement[bool]] = (),
) -> Histogram:
    """Runs expected to start within the window before now, by bucket and state type.

    With no other filter, asked for every state type, so that each state's range of the
    (state_type, expected_start_time) index answers alone and no table row is read (on the
    time index alone, every run's row was read for its state). Every run has a state (a run
    created without one starts Pending). A filter (a flow's runs) uses its own index."""
    span, buckets = WINDOWS.get(window, WINDOWS["24h"])
    width = span / buckets
    start = now - span
    clauses = [*where] if where else [is_state(FR.c.state_type, *STATE_TYPES)]
    stmt: sa.Select[Any] | sa.CompoundSelect[Any]
    if conn.dialect.name == "postgresql":
        bucket = _bucket(start, width).label("bucket")
        stmt = (
            sa.select(bucket, FR.c.state_type, sa.func.count())
            .where(*clauses, FR.c.expected_start_time >= start, FR.c.expected_start_time < now)
            .group_by(bucket, FR.c.state_type)
        )
    else:
        edges = [start + width * i for i in range(buckets)] + [now]
        stmt = _per_bucket(edges, *clauses)
    counts: list[dict[str, int]] = [{} for _ in range(buckets)]
    for index, state, n in (await conn.execute(stmt)).all():
        i = min(max(int(index), 0), buckets - 1)
        key = state or "NONE"
        counts[i][key] = counts[i].get(key, 0) + int(n)
    return Histogram(start, width, buckets, counts)


async def attention(
    conn: AsyncConnection, now: dt.datetime, limit: int = 8
) -> dict[str, list[dict[str, Any]]]:
    """Failed or crashed runs of the last 24 h, newest first, and late runs, latest first."""
    failed = await select_runs(
        conn,
        [
            is_state(FR.c.state_type, "FAILED", "CRASHED"),
            FR.c.expected_start_time >= now - dt.timedelta(hours=24),
        ],
        (FR.c.expected_start_time.desc(), FR.c.id.desc()),
        limit,
        now,
    )
    late = await select_runs(
        conn,
        [
            is_state(FR.c.state_type, "SCHEDULED"),
            is_state(FR.c.state_name, "Late"),
            FR.c.expected_start_time < now,
        ],
        (FR.c.expected_start_time.asc(), FR.c.id.asc()),
        limit,
        now,
    )
    return {"failed": failed, "late": late}


async def active_deployments(
    conn: AsyncConnection, now: dt.datetime, limit: int = 8
) -> list[dict[str, Any]]:
    """Deployments with runs in the last 24 h, most recent first, with their run counts."""
    since = now - dt.timedelta(hours=24)
    failed = sa.func.sum(sa.case((FR.c.state_type.in_(("FAILED", "CRASHED")), 1), else_=0))
    latest = sa.func.max(FR.c.expected_start_time)
    stats = (
        sa.select(
            FR.c.deployment_id,
            sa.func.count().label("runs"),
            failed.label("failed"),
            latest.label("latest"),
        )
        .where(
            FR.c.deployment_id.is_not(None),
            FR.c.expected_start_time >= since,
            FR.c.expected_start_time <= now,
        )
        .group_by(FR.c.deployment_id)
        .order_by(latest.desc())
        .limit(limit)
        .subquery()
    )
    d = t.deployment
    stmt = (
        sa.select(
            d.c.id,
            d.c.name,
            d.c.paused,
            t.flow.c.name.label("flow_name"),
            stats.c.runs,
            stats.c.failed,
            stats.c.latest,
        )
        .select_from(stats.join(d, d.c.id == stats.c.deployment_id))
        .join(t.flow, t.flow.c.id == d.c.flow_id)
        .order_by(stats.c.latest.desc())
    )
    return [dict(r._mapping) for r in (await conn.execute(stmt)).all()]


def pools_with_counts(conn: sa.Connection, limit: int = 50) -> list[dict[str, Any]]:
    """Work pools with status and slots (core), plus their queues and online workers."""
    pools = read_pools(conn, sa.true(), limit)
    if not pools:
        return pools
    ids = [p["id"] for p in pools]
    queues = _count_by(conn, t.work_queue.c.work_pool_id, ids)
    workers = _count_by(conn, t.worker.c.work_pool_id, ids)
    waiting: dict[uuid.UUID, int] = dict(
        conn.execute(
            sa.select(FR.c.work_pool_id, sa.func.count())
            .where(is_state(FR.c.state_type, "SCHEDULED"), FR.c.work_pool_id.in_(ids))
            .group_by(FR.c.work_pool_id)
        ).all()
    )
    for pool in pools:
        pool["queues"] = queues.get(pool["id"], 0)
        pool["workers"] = workers.get(pool["id"], 0)
        pool["waiting"] = waiting.get(pool["id"], 0)
    return pools


def _count_by(
    conn: sa.Connection, column: sa.ColumnElement[Any], ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    rows = conn.execute(sa.select(column, sa.func.count()).where(column.in_(ids)).group_by(column))
    return {r[0]: int(r[1]) for r in rows}
