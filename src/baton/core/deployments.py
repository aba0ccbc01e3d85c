"""Deployments and their schedules: create (an upsert by flow and name), read, update,
pause, delete, query.

Whatever stops a schedule from applying (pausing, replacing or deactivating a schedule,
deleting the deployment) also deletes the future runs it auto-scheduled, and only those:
past-due and manually created runs stay. Every such change first updates the deployment
row, which the scheduler locks while it inserts runs, so the two never interleave.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.clock import utcnow, uuid7, uuid7s
from baton.core import filters as qf
from baton.core.work_queues import resolve_queue
from baton.db import tables as t
from baton.db.database import Database
from baton.db.dialect import insert
from baton.errors import InvalidInput, NotFound
from baton.schemas.deployments import (
    DeploymentCreate,
    DeploymentFilterBody,
    DeploymentPaginateBody,
    DeploymentQuery,
    DeploymentUpdate,
    ScheduleCreate,
    ScheduleUpdate,
)

D = t.deployment
S = t.deployment_schedule
FR = t.flow_run
NOT_FOUND = "Deployment not found"
SCHEDULE_NOT_FOUND = "Schedule not found"
# A deployment is READY while a runner or worker has asked for its runs this recently.
READY_WITHIN = dt.timedelta(seconds=60)

# Columns a create or update copies from the body as they are.
_COPIED = (
    "version",
    "version_info",
    "description",
    "paused",
    "concurrency_limit",
    "concurrency_options",
    "parameters",
    "parameter_openapi_schema",
    "enforce_parameter_schema",
    "tags",
    "labels",
    "job_variables",
    "pull_steps",
    "path",
    "entrypoint",
    "storage_document_id",
    "infrastructure_document_id",
)


# --- reading ---------------------------------------------------------------------------


def _select() -> sa.Select[Any]:
    wq, wp = t.work_queue, t.work_pool
    return sa.select(
        D, wp.c.name.label("work_pool_name"), wp.c.id.label("work_pool_id")
    ).select_from(
        D.outerjoin(wq, wq.c.id == D.c.work_queue_id).outerjoin(wp, wp.c.id == wq.c.work_pool_id)
    )


def schedule_out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "created": row.created,
        "updated": row.updated,
        "deployment_id": row.deployment_id,
        "schedule": row.schedule,
        "active": row.active,
        "max_scheduled_runs": row.max_scheduled_runs,
        "parameters": row.parameters,
        "slug": row.slug,
        "catchup_window": row.catchup_window,
    }


def deployment_out(row: Any, schedules: list[dict[str, Any]], now: dt.datetime) -> dict[str, Any]:
    out = dict(row._mapping)
    del out["work_pool_id"]
    out["labels"] = out["labels"] or {}
    out["schedules"] = schedules
    out["global_concurrency_limit"] = None
    polled = row.last_polled
    out["status"] = "READY" if polled is not None and now - polled < READY_WITHIN else "NOT_READY"
    return out


def _schedules_by_deployment(rows: list[Any]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    grouped: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row.deployment_id].append(schedule_out(row))
    return grouped


def _schedules_query(ids: list[uuid.UUID]) -> sa.Select[Any]:
    return sa.select(S).where(S.c.deployment_id.in_(ids)).order_by(S.c.id)


async def _read_many(conn: AsyncConnection, stmt: sa.Select[Any]) -> list[dict[str, Any]]:
    """Deployments of `stmt` with their schedules: two queries, however many rows."""
    rows = (await conn.execute(stmt)).all()
    if not rows:
        return []
    schedules = (await conn.execute(_schedules_query([r.id for r in rows]))).all()
    grouped = _schedules_by_deployment(list(schedules))
    now = utcnow()
    return [deployment_out(r, grouped.get(r.id, []), now) for r in rows]


def read_one_sync(conn: sa.Connection, deployment_id: uuid.UUID) -> dict[str, Any]:
    row = conn.execute(_select().where(D.c.id == deployment_id)).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    schedules = conn.execute(_schedules_query([deployment_id])).all()
    return deployment_out(row, [schedule_out(s) for s in schedules], utcnow())


async def read_deployment(db: Database, deployment_id: uuid.UUID) -> dict[str, Any]:
    async with db.read() as conn:
        found = await _read_many(conn, _select().where(D.c.id == deployment_id))
    if not found:
        raise NotFound(NOT_FOUND)
    return found[0]


async def read_deployment_by_name(db: Database, flow_name: str, name: str) -> dict[str, Any]:
    flow_ids = sa.select(t.flow.c.id).where(t.flow.c.name == flow_name)
    async with db.read() as conn:
        found = await _read_many(conn, _select().where(D.c.flow_id.in_(flow_ids), D.c.name == name))
    if not found:
        raise NotFound(NOT_FOUND)
    return found[0]


async def filter_deployments(db: Database, body: DeploymentFilterBody) -> list[dict[str, Any]]:
    limit, offset = body.page
    async with db.read() as conn:
        where = qf.deployment_where(body, conn.dialect.name)
        stmt = _select().where(*where).order_by(*qf.deployment_order(body.sort))
        return await _read_many(conn, stmt.limit(limit).offset(offset))


async def count_deployments(db: Database, query: DeploymentQuery) -> int:
    async with db.read() as conn:
        where = qf.deployment_where(query, conn.dialect.name)
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(D).where(*where)) or 0)


async def paginate_deployments(db: Database, body: DeploymentPaginateBody) -> dict[str, Any]:
    async with db.read() as conn:
        where = qf.deployment_where(body, conn.dialect.name)
        count = int(await conn.scalar(sa.select(sa.func.count()).select_from(D).where(*where)) or 0)
        stmt = _select().where(*where).order_by(*qf.deployment_order(body.sort))
        stmt = stmt.limit(body.limit).offset((body.page - 1) * body.limit)
        results = await _read_many(conn, stmt)
    pages = (count + body.limit - 1) // body.limit
    return {
        "results": results,
        "count": count,
        "limit": body.limit,
        "pages": pages,
        "page": body.page,
    }


async def read_schedules(db: Database, deployment_id: uuid.UUID) -> list[dict[str, Any]]:
    async with db.read() as conn:
        exists = await conn.scalar(sa.select(D.c.id).where(D.c.id == deployment_id))
        if exists is None:
            raise NotFound(NOT_FOUND)
        rows = (await conn.execute(_schedules_query([deployment_id]))).all()
    return [schedule_out(r) for r in rows]


# --- writing ---------------------------------------------------------------------------


def delete_future_auto_runs(
    conn: sa.Connection,
    deployment_id: uuid.UUID,
    now: dt.datetime,
    schedule_ids: list[uuid.UUID] | None = None,
) -> int:
    """Delete the deployment's auto-scheduled runs that are still Scheduled and not yet due
    (of the given schedules only, when named). Their state rows go with them (cascade)."""
    stmt = FR.delete().where(
        FR.c.deployment_id == deployment_id,
        FR.c.auto_scheduled.is_(True),
        FR.c.state_type == "SCHEDULED",
        FR.c.expected_start_time >= now,
    )
    if schedule_ids is not None:
        if not schedule_ids:
            return 0
        # The scheduler keys each run "scheduled <deployment> <schedule> <time>".
        stmt = stmt.where(
            sa.or_(
                *(
                    FR.c.idempotency_key.startswith(f"scheduled {deployment_id} {sid} ")
                    for sid in schedule_ids
                )
            )
        )
    return conn.execute(stmt).rowcount


def _touch(conn: sa.Connection, deployment_id: uuid.UUID, now: dt.datetime, **values: Any) -> None:
    """Update the deployment row first: that row lock orders this change with the scheduler."""
    done = conn.execute(D.update().where(D.c.id == deployment_id).values(updated=now, **values))
    if done.rowcount == 0:
        raise NotFound(NOT_FOUND)


def _was_paused(conn: sa.Connection, deployment_id: uuid.UUID) -> bool:
    return bool(conn.scalar(sa.select(D.c.paused).where(D.c.id == deployment_id)))


def _after_pausing(
    conn: sa.Connection, deployment_id: uuid.UUID, was: bool, paused: bool, now: dt.datetime
) -> None:
    """Pausing deletes the future auto-scheduled runs; resuming restarts the schedules'
    catch-up from now, so runs skipped on purpose while paused are not made up."""
    if paused:
        delete_future_auto_runs(conn, deployment_id, now)
    elif was:
        conn.execute(S.update().where(S.c.deployment_id == deployment_id).values(updated=now))


def _schedule_rows(
    deployment_id: uuid.UUID, schedules: list[ScheduleCreate], now: dt.datetime
) -> list[dict[str, Any]]:
    """New schedule rows, their ids in the order given (they are listed by id)."""
    ids = uuid7s(len(schedules))
    return [_schedule_row(i, deployment_id, s, now) for i, s in zip(ids, schedules, strict=True)]


def _schedule_row(
    schedule_id: uuid.UUID, deployment_id: uuid.UUID, schedule: ScheduleCreate, now: dt.datetime
) -> dict[str, Any]:
    return {
        "id": schedule_id,
        "created": now,
        "updated": now,
        "deployment_id": deployment_id,
        "schedule": schedule.schedule,
        "active": schedule.active,
        "max_scheduled_runs": schedule.max_scheduled_runs,
        "parameters": schedule.parameters,
        "slug": schedule.slug,
        "catchup_window": schedule.catchup_window,
    }


def _check_unique_slugs(schedules: list[ScheduleCreate], taken: Iterable[str] = ()) -> None:
    slugs = [*taken, *(s.slug for s in schedules if s.slug is not None)]
    duplicated = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicated:
        raise InvalidInput(
            f"Schedule slugs must be unique within a deployment: {', '.join(duplicated)}",
            loc="body.schedules",
        )


def _replace_schedules(
    conn: sa.Connection,
    deployment_id: uuid.UUID,
    schedules: list[ScheduleCreate],
    now: dt.datetime,
) -> None:
    """Make the deployment's schedules exactly `schedules`. A schedule whose slug matches an
    existing one updates it in place (its future runs are kept unless it changed); every
    other existing schedule is removed with its future runs."""
    _check_unique_slugs(schedules)
    existing = {
        r.slug: r for r in conn.execute(sa.select(S).where(S.c.deployment_id == deployment_id))
    }
    kept: set[uuid.UUID] = set()
    stale: list[uuid.UUID] = []
    for schedule, new_id in zip(schedules, uuid7s(len(schedules)), strict=True):
        old = existing.get(schedule.slug) if schedule.slug is not None else None
        if old is None:
            conn.execute(S.insert().values(**_schedule_row(new_id, deployment_id, schedule, now)))
            continue
        kept.add(old.id)
        new = {
            "schedule": schedule.schedule,
            "active": schedule.active,
            "max_scheduled_runs": schedule.max_scheduled_runs,
            "parameters": schedule.parameters,
            "catchup_window": schedule.catchup_window,
        }
        if any(getattr(old, k) != v for k, v in new.items()):
            conn.execute(S.update().where(S.c.id == old.id).values(**new, updated=now))
            stale.append(old.id)
    removed = [r.id for r in existing.values() if r.id not in kept]
    if removed:
        conn.execute(S.delete().where(S.c.id.in_(removed)))
    delete_future_auto_runs(conn, deployment_id, now, [*stale, *removed])


def _queue_columns(
    conn: sa.Connection, pool: str | None, queue: str | None, now: dt.datetime
) -> dict[str, Any]:
    """A deployment's queue: `queue` of pool `pool` (its default queue when not named)."""
    if pool is None:
        return {"work_queue_name": queue, "work_queue_id": None}
    found = resolve_queue(conn, pool, queue, now)
    return {"work_queue_name": found.queue_name, "work_queue_id": found.queue_id}


def _pool_name(conn: sa.Connection, deployment_id: uuid.UUID) -> str | None:
    wq, wp = t.work_queue, t.work_pool
    return conn.scalar(
        sa.select(wp.c.name)
        .select_from(
            D.join(wq, wq.c.id == D.c.work_queue_id).join(wp, wp.c.id == wq.c.work_pool_id)
        )
        .where(D.c.id == deployment_id)
    )


async def create_deployment(db: Database, body: DeploymentCreate) -> tuple[dict[str, Any], bool]:
    """Create the deployment, or update the one of that flow with that name: an upsert, as
    `flow.serve` and `deploy` expect. Returns (deployment, created)."""
    _check_unique_slugs(body.schedules)

    def job(conn: sa.Connection) -> tuple[dict[str, Any], bool]:
        if conn.scalar(sa.select(t.flow.c.id).where(t.flow.c.id == body.flow_id)) is None:
            raise InvalidInput("There is no flow with this id.", loc="body.flow_id")
        now = utcnow()
        values = {k: getattr(body, k) for k in _COPIED}
        values |= _queue_columns(conn, body.work_pool_name, body.work_queue_name, now)
        new_id = uuid7()
        inserted = conn.execute(
            insert(conn, D)
            .values(
                id=new_id, created=now, updated=now, name=body.name, flow_id=body.flow_id, **values
            )
            .on_conflict_do_nothing(index_elements=["flow_id", "name"])
            .returning(D.c.id)
        ).first()
        if inserted is not None:
            for row in _schedule_rows(new_id, body.schedules, now):
                conn.execute(S.insert().values(**row))
            return read_one_sync(conn, new_id), True
        existing = conn.scalar(
            sa.select(D.c.id).where(D.c.flow_id == body.flow_id, D.c.name == body.name)
        )
        assert existing is not None  # the conflict says it exists; deletes take the writer too
        was = _was_paused(conn, existing)
        _touch(conn, existing, now, **values)
        _replace_schedules(conn, existing, body.schedules, now)
        _after_pausing(conn, existing, was, body.paused, now)
        return read_one_sync(conn, existing), False

    return await db.write(job)


async def update_deployment(db: Database, deployment_id: uuid.UUID, body: DeploymentUpdate) -> None:
    """A PATCH: the fields sent change; `schedules`, when sent, replaces them all."""
    changes = body.changes()

    def job(conn: sa.Connection) -> None:
        now = utcnow()
        values = {k: v for k, v in changes.items() if k in _COPIED}
        if "work_pool_name" in changes or "work_queue_name" in changes:
            pool = changes.get("work_pool_name", _pool_name(conn, deployment_id))
            values |= _queue_columns(conn, pool, changes.get("work_queue_name"), now)
        was = _was_paused(conn, deployment_id)
        _touch(conn, deployment_id, now, **values)
        if "schedules" in changes:
            _replace_schedules(conn, deployment_id, changes["schedules"], now)
        if "paused" in values:
            _after_pausing(conn, deployment_id, was, values["paused"], now)

    await db.write(job)


async def set_paused(db: Database, deployment_id: uuid.UUID, paused: bool) -> None:
    def job(conn: sa.Connection) -> None:
        now = utcnow()
        was = _was_paused(conn, deployment_id)
        _touch(conn, deployment_id, now, paused=paused)
        _after_pausing(conn, deployment_id, was, paused, now)

    await db.write(job)


async def delete_deployment(db: Database, deployment_id: uuid.UUID) -> None:
    def job(conn: sa.Connection) -> None:
        now = utcnow()
        _touch(conn, deployment_id, now)
        delete_future_auto_runs(conn, deployment_id, now)
        conn.execute(D.delete().where(D.c.id == deployment_id))

    await db.write(job)


async def create_schedules(
    db: Database, deployment_id: uuid.UUID, schedules: list[ScheduleCreate]
) -> list[dict[str, Any]]:
    def job(conn: sa.Connection) -> list[dict[str, Any]]:
        now = utcnow()
        _touch(conn, deployment_id, now)
        taken = {
            s
            for s in conn.scalars(sa.select(S.c.slug).where(S.c.deployment_id == deployment_id))
            if s is not None
        }
        _check_unique_slugs(schedules, taken)
        rows = _schedule_rows(deployment_id, schedules, now)
        for row in rows:
            conn.execute(S.insert().values(**row))
        return rows

    return await db.write(job)


async def update_schedule(
    db: Database, deployment_id: uuid.UUID, schedule_id: uuid.UUID, body: ScheduleUpdate
) -> None:
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    if "schedule" in changes and changes["schedule"] is None:
        raise InvalidInput("schedule must not be null", loc="body.schedule")

    def job(conn: sa.Connection) -> None:
        now = utcnow()
        _touch(conn, deployment_id, now)
        done = conn.execute(
            S.update()
            .where(S.c.id == schedule_id, S.c.deployment_id == deployment_id)
            .values(**changes, updated=now)
        )
        if done.rowcount == 0:
            raise NotFound(SCHEDULE_NOT_FOUND)
        delete_future_auto_runs(conn, deployment_id, now, [schedule_id])

    await db.write(job)


async def delete_schedule(db: Database, deployment_id: uuid.UUID, schedule_id: uuid.UUID) -> None:
    def job(conn: sa.Connection) -> None:
        now = utcnow()
        _touch(conn, deployment_id, now)
        done = conn.execute(
            S.delete().where(S.c.id == schedule_id, S.c.deployment_id == deployment_id)
        )
        if done.rowcount == 0:
            raise NotFound(SCHEDULE_NOT_FOUND)
        delete_future_auto_runs(conn, deployment_id, now, [schedule_id])

    await db.write(job)
