"""One flow run's page: the run, its task runs and nested subflow runs (one query per level,
bounded), its logs by keyset, its artifacts."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.core.logs import log_where
from baton.db import tables as t
from baton.db.database import Database
from baton.errors import NotFound
from baton.schemas.logs import LogFilter, LogFilterLevel, LogFilterText
from baton.ui.format import level_name
from baton.ui.queries.common import FR, Cursor, after_clause, run_dict

TR = t.task_run
LOG = t.log
MAX_TASKS = 500  # timeline rows and task-run tab rows
MAX_DEPTH = 3  # subflow nesting shown in the timeline
LOG_PAGE = 500


async def read_run(conn: AsyncConnection, run_id: uuid.UUID, now: dt.datetime) -> dict[str, Any]:
    stmt = (
        sa.select(
            FR,
            t.flow.c.name.label("flow_name"),
            t.deployment.c.name.label("deployment_name"),
            t.deployment.c.parameter_openapi_schema.label("deployment_schema"),
        )
        .select_from(
            FR.join(t.flow, t.flow.c.id == FR.c.flow_id).outerjoin(
                t.deployment, t.deployment.c.id == FR.c.deployment_id
            )
        )
        .where(FR.c.id == run_id)
    )
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("Flow run not found")
    run = run_dict(row, now)
    run["parent"] = None
    if run["parent_task_run_id"] is not None:
        parent = (
            await conn.execute(
                sa.select(FR.c.id, FR.c.name)
                .join(TR, TR.c.flow_run_id == FR.c.id)
                .where(TR.c.id == run["parent_task_run_id"])
            )
        ).first()
        run["parent"] = None if parent is None else dict(parent._mapping)
    return run


_TASK_COLUMNS = (
    TR.c.id,
    TR.c.name,
    TR.c.flow_run_id,
    TR.c.state_type,
    TR.c.state_name,
    TR.c.state_timestamp,
    TR.c.expected_start_time,
    TR.c.start_time,
    TR.c.end_time,
    TR.c.total_run_time,
    TR.c.created,
    TR.c.run_count,
    TR.c.tags,
)
_SUBFLOW_COLUMNS = (
    FR.c.id,
    FR.c.name,
    FR.c.parent_task_run_id,
    FR.c.state_type,
    FR.c.state_name,
    FR.c.state_timestamp,
    FR.c.expected_start_time,
    FR.c.start_time,
    FR.c.end_time,
    FR.c.total_run_time,
    FR.c.created,
)


async def run_tree(
    conn: AsyncConnection, run_id: uuid.UUID, now: dt.datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], bool]:
    """(timeline rows in display order, this run's task runs, its direct subflow runs,
    truncated). A subflow shows under the task run that stands for it, its own task runs
    under it, down to MAX_DEPTH levels and MAX_TASKS rows in all."""
    tasks_by_run: dict[uuid.UUID, list[dict[str, Any]]] = {}
    child_of_task: dict[uuid.UUID, dict[str, Any]] = {}
    level = [run_id]
    budget = MAX_TASKS
    truncated = False
    for _ in range(MAX_DEPTH):
        if not level or budget <= 0:
            break
        rows = (
            await conn.execute(
                sa.select(*_TASK_COLUMNS)
                .where(TR.c.flow_run_id.in_(level))
                .order_by(TR.c.expected_start_time, TR.c.id)
                .limit(budget + 1)
            )
        ).all()
        if len(rows) > budget:
            truncated = True
            rows = rows[:budget]
        budget -= len(rows)
        for r in rows:
            task = run_dict(r, now)
            tasks_by_run.setdefault(task["flow_run_id"], []).append(task)
        subflows = (
            await conn.execute(
                sa.select(*_SUBFLOW_COLUMNS).where(
                    FR.c.parent_task_run_id.in_(
                        sa.select(TR.c.id).where(TR.c.flow_run_id.in_(level))
                    )
                )
            )
        ).all()
        level = []
        for s in subflows:
            child = run_dict(s, now)
            child_of_task[child["parent_task_run_id"]] = child
            level.append(child["id"])
    ordered: list[dict[str, Any]] = []

    def walk(flow_run_id: uuid.UUID, depth: int) -> None:
        for task in tasks_by_run.get(flow_run_id, []):
            child = child_of_task.get(task["id"])
            if child is not None:
                ordered.append(
                    {
                        **child,
                        "label": child["name"],
                        "depth": depth,
                        "kind": "flow",
                        "href": f"/runs/{child['id']}",
                    }
                )
                walk(child["id"], depth + 1)
            else:
                ordered.append({**task, "label": task["name"], "depth": depth, "kind": "task"})

    walk(run_id, 0)
    direct_tasks = tasks_by_run.get(run_id, [])
    direct_subflows = [
        child_of_task[task["id"]] for task in direct_tasks if task["id"] in child_of_task
    ]
    return ordered, direct_tasks, direct_subflows, truncated


async def count_tasks(conn: AsyncConnection, run_id: uuid.UUID) -> int:
    stmt = sa.select(sa.func.count()).select_from(TR).where(TR.c.flow_run_id == run_id)
    return int(await conn.scalar(stmt) or 0)


# --- logs -------------------------------------------------------------------------------


def log_filter(level: int, text: str) -> LogFilter:
    return LogFilter(
        level=LogFilterLevel(ge_=level) if level else None,
        text=LogFilterText(query=text[:200]) if text else None,
    )


LOG_COLUMNS = (
    LOG.c.id,
    LOG.c.name,
    LOG.c.level,
    LOG.c.message,
    LOG.c.timestamp,
    LOG.c.flow_run_id,
    LOG.c.task_run_id,
)


def log_dict(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    out["cursor"] = Cursor(out["timestamp"], out["id"]).encode()
    return out


async def run_logs(
    conn: AsyncConnection,
    run_id: uuid.UUID,
    level: int,
    text: str,
    after: Cursor | None,
    limit: int = LOG_PAGE,
) -> tuple[list[dict[str, Any]], bool]:
    """The run's logs oldest first, after `after`; (logs, more follow)."""
    where = [LOG.c.flow_run_id == run_id, log_where(log_filter(level, text))]
    if after is not None:
        where.append(after_clause(LOG.c.timestamp, LOG.c.id, after, desc=False))
    stmt = (
        sa.select(*LOG_COLUMNS).where(*where).order_by(LOG.c.timestamp, LOG.c.id).limit(limit + 1)
    )
    rows = (await conn.execute(stmt)).all()
    return [log_dict(r) for r in rows[:limit]], len(rows) > limit


async def stream_log_lines(
    db: Database, run_id: uuid.UUID, batch: int = 5000
) -> AsyncIterator[str]:
    """Every log line of the run, oldest first, read in keyset batches (bounded memory)."""
    after: Cursor | None = None
    while True:
        async with db.read() as conn:
            where = [LOG.c.flow_run_id == run_id]
            if after is not None:
                where.append(after_clause(LOG.c.timestamp, LOG.c.id, after, desc=False))
            rows = (
                await conn.execute(
                    sa.select(LOG.c.id, LOG.c.timestamp, LOG.c.level, LOG.c.name, LOG.c.message)
                    .where(*where)
                    .order_by(LOG.c.timestamp, LOG.c.id)
                    .limit(batch)
                )
            ).all()
        if not rows:
            return
        lines = []
        for r in rows:
            stamp = r.timestamp.astimezone(dt.UTC).isoformat(timespec="milliseconds")
            lines.append(f"{stamp} {level_name(r.level):<8} {r.name} - {r.message}\n")
        yield "".join(lines)
        if len(rows) < batch:
            return
        after = Cursor(rows[-1].timestamp, rows[-1].id)


async def run_artifacts(conn: AsyncConnection, run_id: uuid.UUID) -> list[dict[str, Any]]:
    a = t.artifact
    stmt = (
        sa.select(a.c.id, a.c.key, a.c.type, a.c.description, a.c.created, a.c.task_run_id)
        .where(a.c.flow_run_id == run_id)
        .order_by(a.c.created.desc(), a.c.id.desc())
        .limit(200)
    )
    return [dict(r._mapping) for r in (await conn.execute(stmt)).all()]
