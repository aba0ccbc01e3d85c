"""Flows and deployments as their pages list them: a bounded page plus per-row figures read
for the whole page at once (GROUP BY, or one correlated lookup per row on an index)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.db import tables as t
from baton.errors import NotFound
from baton.ui.queries.common import FR, select_runs

F, D, S = t.flow, t.deployment, t.deployment_schedule
LIST_LIMIT = 100


def _last_run(run_column: str, owner: sa.ColumnElement[Any], now: dt.datetime) -> Any:
    """The latest started-or-due run of a flow or deployment (walks its index backwards)."""
    last = FR.alias("last")
    return (
        sa.select(last.c.id)
        .where(last.c[run_column] == owner, last.c.expected_start_time <= now)
        .order_by(last.c.expected_start_time.desc())
        .limit(1)
        .scalar_subquery()
    )


async def _last_runs(
    conn: AsyncConnection, table: sa.Table, run_column: str, ids: list[uuid.UUID], now: dt.datetime
) -> dict[uuid.UUID, dict[str, Any]]:
    """The last run of each flow (run_column "flow_id") or deployment ("deployment_id")."""
    if not ids:
        return {}
    owner = table.c.id
    stmt = (
        sa.select(
            owner.label("owner"),
            FR.c.id,
            FR.c.name,
            FR.c.state_type,
            FR.c.state_name,
            FR.c.expected_start_time,
        )
        .select_from(table)
        .join(FR, FR.c.id == _last_run(run_column, owner, now))
        .where(owner.in_(ids))
    )
    return {r.owner: dict(r._mapping) for r in (await conn.execute(stmt)).all()}


async def flow_list(
    conn: AsyncConnection, text: str, offset: int, now: dt.datetime
) -> tuple[list[dict[str, Any]], bool]:
    stmt = sa.select(F.c.id, F.c.name, F.c.created, F.c.tags).order_by(F.c.name)
    if text:
        stmt = stmt.where(F.c.name.icontains(text, autoescape=True))
    rows = (await conn.execute(stmt.limit(LIST_LIMIT + 1).offset(offset))).all()
    flows = [dict(r._mapping) for r in rows[:LIST_LIMIT]]
    ids = [f["id"] for f in flows]
    if ids:
        deployments: dict[uuid.UUID, int] = dict(
            (
                await conn.execute(
                    sa.select(D.c.flow_id, sa.func.count())
                    .where(D.c.flow_id.in_(ids))
                    .group_by(D.c.flow_id)
                )
            ).all()
        )
        runs: dict[uuid.UUID, int] = dict(
            (
                await conn.execute(
                    sa.select(FR.c.flow_id, sa.func.count())
                    .where(FR.c.flow_id.in_(ids))
                    .group_by(FR.c.flow_id)
                )
            ).all()
        )
        last = await _last_runs(conn, F, "flow_id", ids, now)
        for flow in flows:
            flow["deployments"] = deployments.get(flow["id"], 0)
            flow["runs"] = runs.get(flow["id"], 0)
            flow["last_run"] = last.get(flow["id"])
    return flows, len(rows) > LIST_LIMIT


async def read_flow(conn: AsyncConnection, flow_id: uuid.UUID) -> dict[str, Any]:
    row = (await conn.execute(sa.select(F).where(F.c.id == flow_id))).first()
    if row is None:
        raise NotFound("Flow not found")
    return dict(row._mapping)


def _deployment_columns() -> list[Any]:
    wp = t.work_pool
    return [
        D.c.id,
        D.c.name,
        D.c.flow_id,
        F.c.name.label("flow_name"),
        D.c.paused,
        D.c.tags,
        D.c.updated,
        D.c.last_polled,
        D.c.work_queue_name,
        D.c.concurrency_limit,
        wp.c.name.label("work_pool_name"),
        D.c.description,
    ]


def _deployment_from() -> sa.FromClause:
    wq, wp = t.work_queue, t.work_pool
    return (
        D.join(F, F.c.id == D.c.flow_id)
        .outerjoin(wq, wq.c.id == D.c.work_queue_id)
        .outerjoin(wp, wp.c.id == wq.c.work_pool_id)
    )


async def deployment_list(
    conn: AsyncConnection,
    text: str,
    flow_id: uuid.UUID | None,
    offset: int,
    now: dt.datetime,
) -> tuple[list[dict[str, Any]], bool]:
    stmt = sa.select(*_deployment_columns()).select_from(_deployment_from())
    if text:
        like = sa.or_(
            D.c.name.icontains(text, autoescape=True), F.c.name.icontains(text, autoescape=True)
        )
        stmt = stmt.where(like)
    if flow_id is not None:
        stmt = stmt.where(D.c.flow_id == flow_id)
    stmt = stmt.order_by(F.c.name, D.c.name).limit(LIST_LIMIT + 1).offset(offset)
    rows = (await conn.execute(stmt)).all()
    deployments = [dict(r._mapping) for r in rows[:LIST_LIMIT]]
    ids = [d["id"] for d in deployments]
    schedules = await schedules_of(conn, ids)
    last = await _last_runs(conn, D, "deployment_id", ids, now)
    for d in deployments:
        d["schedules"] = schedules.get(d["id"], [])
        d["last_run"] = last.get(d["id"])
    return deployments, len(rows) > LIST_LIMIT


async def schedules_of(
    conn: AsyncConnection, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    if not ids:
        return {}
    rows = (
        await conn.execute(sa.select(S).where(S.c.deployment_id.in_(ids)).order_by(S.c.id))
    ).all()
    out: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r.deployment_id, []).append(dict(r._mapping))
    return out


async def read_deployment(conn: AsyncConnection, deployment_id: uuid.UUID) -> dict[str, Any]:
    stmt = (
        sa.select(
            D,
            F.c.name.label("flow_name"),
            t.work_pool.c.name.label("work_pool_name"),
        )
        .select_from(_deployment_from())
        .where(D.c.id == deployment_id)
    )
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("Deployment not found")
    deployment = dict(row._mapping)
    deployment["schedules"] = (await schedules_of(conn, [deployment_id])).get(deployment_id, [])
    return deployment


async def upcoming_and_recent(
    conn: AsyncConnection, column: sa.ColumnElement[Any], value: uuid.UUID, now: dt.datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Up to 10 runs due next and 15 that were due last (by expected start)."""
    upcoming = await select_runs(
        conn,
        [column == value, FR.c.expected_start_time > now],
        (FR.c.expected_start_time.asc(), FR.c.id.asc()),
        10,
        now,
    )
    recent = await select_runs(
        conn,
        [column == value, FR.c.expected_start_time <= now],
        (FR.c.expected_start_time.desc(), FR.c.id.desc()),
        15,
        now,
    )
    return upcoming, recent


async def queue_names(conn: AsyncConnection, pool_name: str) -> list[str]:
    """A pool's queues by priority, for a deployment's queue choice."""
    wq, wp = t.work_queue, t.work_pool
    stmt = (
        sa.select(wq.c.name)
        .join(wp, wp.c.id == wq.c.work_pool_id)
        .where(wp.c.name == pool_name)
        .order_by(wq.c.priority)
        .limit(200)
    )
    return list(await conn.scalars(stmt))
