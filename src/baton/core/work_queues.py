"""Work queues: a pool's queues in priority order (1 is served first), created, read,
changed and deleted by pool and name, or by id for the legacy `/work_queues` routes; and
finding a pool's queue by name when a deployment names one.

Priorities stay unique within a pool: giving a queue a priority another queue holds moves
that queue, and the ones right after it up to the first gap, down one place; their order
is kept, and gaps elsewhere stay.
Every change of a pool's queues first locks the pool row, so two concurrent changes cannot
both pick the same priority or name (PostgreSQL; SQLite has a single writer anyway).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow, uuid7
from baton.core import filters as qf
from baton.db import tables as t
from baton.db.database import Database
from baton.errors import Conflict, NotFound
from baton.schemas.work_pools import WorkQueueCreate, WorkQueueFilter, WorkQueueFilterBody

WQ = t.work_queue
WP = t.work_pool
FR = t.flow_run

DEFAULT_QUEUE = "default"
DEFAULT_QUEUE_DESCRIPTION = "The work pool's default queue."
# A queue is READY while a worker has polled it this recently.
READY_WITHIN = dt.timedelta(seconds=60)
# Runs that hold a slot of their queue and pool (`active_slots`).
ACTIVE_STATES = ("PENDING", "RUNNING", "CANCELLING")
# The health check of GET /work_queues/{id}/status: no late runs, polled within a minute.
MAX_LATE_RUNS = 0
MAX_SECONDS_SINCE_POLLED = 60
QUEUE_NOT_FOUND = "Work queue not found."


@dataclass(frozen=True)
class QueueRef:
    pool_id: uuid.UUID
    pool_name: str
    queue_id: uuid.UUID
    queue_name: str


def pool_not_found(name: str) -> NotFound:
    return NotFound(f'Work pool "{name}" not found.')


def queue_not_found(pool_name: str, name: str) -> NotFound:
    return NotFound(f'Work queue "{name}" not found in work pool "{pool_name}".')


def _queue_exists(pool_name: str, name: str) -> Conflict:
    return Conflict(f'A work queue named "{name}" already exists in work pool "{pool_name}".')


def lock_pool(conn: sa.Connection, pool_name: str) -> Any:
    """The pool's (id, default_queue_id), its row locked until the transaction ends."""
    pool = conn.execute(
        sa.select(WP.c.id, WP.c.default_queue_id).where(WP.c.name == pool_name).with_for_update()
    ).first()
    if pool is None:
        raise pool_not_found(pool_name)
    return pool


def resolve_queue(
    conn: sa.Connection, pool_name: str, queue_name: str | None, now: dt.datetime
) -> QueueRef:
    """The queue `queue_name` of pool `pool_name` (its default queue when None), created at
    the lowest priority when the pool has no queue of that name."""
    pool = lock_pool(conn, pool_name)
    where = WQ.c.id == pool.default_queue_id if queue_name is None else WQ.c.name == queue_name
    found = conn.execute(
        sa.select(WQ.c.id, WQ.c.name).where(WQ.c.work_pool_id == pool.id, where)
    ).first()
    if found is not None:
        return QueueRef(pool.id, pool_name, found.id, found.name)
    name = queue_name or DEFAULT_QUEUE
    queue_id = create_queue(conn, pool.id, name, now)
    return QueueRef(pool.id, pool_name, queue_id, name)


def _make_room(
    conn: sa.Connection,
    pool_id: uuid.UUID,
    priority: int,
    now: dt.datetime,
    moving: uuid.UUID | None = None,
) -> None:
    """Free `priority` for one queue: the queue holding it and the ones right after it, up
    to the first free place, move down one place."""
    others = [WQ.c.work_pool_id == pool_id]
    if moving is not None:
        others.append(WQ.c.id != moving)
    held = set(conn.scalars(sa.select(WQ.c.priority).where(*others, WQ.c.priority >= priority)))
    free = priority
    while free in held:
        free += 1
    if free > priority:
        conn.execute(
            WQ.update()
            .where(*others, WQ.c.priority >= priority, WQ.c.priority < free)
            .values(priority=WQ.c.priority + 1, updated=now)
        )


def create_queue(
    conn: sa.Connection,
    pool_id: uuid.UUID,
    name: str,
    now: dt.datetime,
    *,
    priority: int | None = None,
    description: str | None = None,
    is_paused: bool = False,
    concurrency_limit: int | None = None,
) -> uuid.UUID:
    """Insert a queue; without a priority it goes after the pool's existing queues."""
    if priority is None:
        lowest = conn.scalar(
            sa.select(sa.func.max(WQ.c.priority)).where(WQ.c.work_pool_id == pool_id)
        )
        priority = (lowest or 0) + 1
    else:
        _make_room(conn, pool_id, priority, now)
    queue_id = uuid7()
    conn.execute(
        WQ.insert().values(
            id=queue_id,
            created=now,
            updated=now,
            work_pool_id=pool_id,
            name=name,
            description=description,
            is_paused=is_paused,
            concurrency_limit=concurrency_limit,
            priority=priority,
        )
    )
    return queue_id


# --- reading ----------------------------------------------------------------------------


def _select() -> sa.Select[Any]:
    return sa.select(
        WQ, WP.c.name.label("work_pool_name"), WP.c.is_paused.label("pool_paused")
    ).join(WP, WP.c.id == WQ.c.work_pool_id)


def queue_status(row: Any, now: dt.datetime) -> str:
    if row.is_paused or row.pool_paused:
        return "PAUSED"
    polled = row.last_polled
    return "READY" if polled is not None and now - polled < READY_WITHIN else "NOT_READY"


def queue_out(row: Any, active_slots: int, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "created": row.created,
        "updated": row.updated,
        "name": row.name,
        "description": row.description,
        "is_paused": row.is_paused,
        "concurrency_limit": row.concurrency_limit,
        "priority": row.priority,
        "work_pool_id": row.work_pool_id,
        "filter": row.filter,
        "last_polled": row.last_polled,
        "work_pool_name": row.work_pool_name,
        "status": queue_status(row, now),
        "active_slots": active_slots,
    }


def read_queues(conn: sa.Connection, stmt: sa.Select[Any]) -> list[dict[str, Any]]:
    """The queues `stmt` (built on `_select()`) finds, with their active slots: two queries
    however many queues. A sync function, so reads run it with `AsyncConnection.run_sync`
    and writes inside their job."""
    rows = conn.execute(stmt).all()
    if not rows:
        return []
    slots: dict[uuid.UUID, int] = dict(
        conn.execute(
            sa.select(FR.c.work_queue_id, sa.func.count())
            .where(FR.c.work_queue_id.in_([r.id for r in rows]), FR.c.state_type.in_(ACTIVE_STATES))
            .group_by(FR.c.work_queue_id)
        ).all()
    )
    now = utcnow()
    return [queue_out(r, slots.get(r.id, 0), now) for r in rows]


def _one(conn: sa.Connection, *where: sa.ColumnElement[bool]) -> dict[str, Any] | None:
    found = read_queues(conn, _select().where(*where))
    return found[0] if found else None


def _in_pool(conn: sa.Connection, pool_name: str, name: str) -> dict[str, Any]:
    found = _one(conn, WP.c.name == pool_name, WQ.c.name == name)
    if found is None:
        if conn.scalar(sa.select(WP.c.id).where(WP.c.name == pool_name)) is None:
            raise pool_not_found(pool_name)
        raise queue_not_found(pool_name, name)
    return found


async def read_work_queue(db: Database, pool_name: str, name: str) -> dict[str, Any]:
    async with db.read() as conn:
        return await conn.run_sync(_in_pool, pool_name, name)


async def read_work_queue_by_id(db: Database, queue_id: uuid.UUID) -> dict[str, Any]:
    async with db.read() as conn:
        found = await conn.run_sync(_one, WQ.c.id == queue_id)
    if found is None:
        raise NotFound(QUEUE_NOT_FOUND)
    return found


async def read_work_queue_by_name(db: Database, name: str) -> dict[str, Any]:
    """The oldest queue of that name in any pool (the legacy lookup has no pool)."""
    stmt = _select().where(WQ.c.name == name).order_by(WQ.c.created, WQ.c.id).limit(1)
    async with db.read() as conn:
        found = await conn.run_sync(read_queues, stmt)
    if not found:
        raise NotFound(QUEUE_NOT_FOUND)
    return found[0]


def queue_clause(flt: WorkQueueFilter | None) -> qf.Clause:
    if flt is None:
        return sa.true()
    clauses = qf.ids(WQ.c.id, flt.id)
    if flt.name is not None:
        if flt.name.any_ is not None:
            clauses.append(WQ.c.name.in_(flt.name.any_))
        if flt.name.startswith_ is not None:
            clauses.append(
                sa.or_(*(WQ.c.name.istartswith(p, autoescape=True) for p in flt.name.startswith_))
            )
    return qf.combine(flt.operator, clauses)


async def filter_pool_queues(
    db: Database, pool_name: str, body: WorkQueueFilterBody
) -> list[dict[str, Any]]:
    """A pool's queues matching the filter, in priority order."""
    limit, offset = body.page
    stmt = (
        _select()
        .where(WP.c.name == pool_name, queue_clause(body.work_queues))
        .order_by(WQ.c.priority, WQ.c.name)
        .limit(limit)
        .offset(offset)
    )
    async with db.read() as conn:
        if await conn.scalar(sa.select(WP.c.id).where(WP.c.name == pool_name)) is None:
            raise pool_not_found(pool_name)
        return await conn.run_sync(read_queues, stmt)


async def filter_work_queues(db: Database, body: WorkQueueFilterBody) -> list[dict[str, Any]]:
    """Queues of every pool matching the filter, by name."""
    limit, offset = body.page
    stmt = (
        _select()
        .where(queue_clause(body.work_queues))
        .order_by(WQ.c.name, WP.c.name)
        .limit(limit)
        .offset(offset)
    )
    async with db.read() as conn:
        return await conn.run_sync(read_queues, stmt)


async def work_queue_health(db: Database, queue_id: uuid.UUID) -> dict[str, Any]:
    """Healthy when it has at most MAX_LATE_RUNS late runs and was polled within
    MAX_SECONDS_SINCE_POLLED seconds."""
    async with db.read() as conn:
        polled = (
            await conn.execute(sa.select(WQ.c.last_polled).where(WQ.c.id == queue_id))
        ).first()
        if polled is None:
            raise NotFound(QUEUE_NOT_FOUND)
        late = await conn.scalar(
            sa.select(sa.func.count()).where(
                FR.c.work_queue_id == queue_id,
                FR.c.state_type == "SCHEDULED",
                FR.c.state_name == "Late",
            )
        )
    last_polled: dt.datetime | None = polled.last_polled
    late_runs = int(late or 0)
    fresh = last_polled is not None and (utcnow() - last_polled).total_seconds() <= (
        MAX_SECONDS_SINCE_POLLED
    )
    return {
        "healthy": late_runs <= MAX_LATE_RUNS and fresh,
        "late_runs_count": late_runs,
        "last_polled": last_polled,
        "health_check_policy": {
            "maximum_late_runs": MAX_LATE_RUNS,
            "maximum_seconds_since_last_polled": MAX_SECONDS_SINCE_POLLED,
        },
    }


# --- writing ----------------------------------------------------------------------------


def _name_taken(conn: sa.Connection, pool_id: uuid.UUID, name: str) -> bool:
    found = conn.scalar(sa.select(WQ.c.id).where(WQ.c.work_pool_id == pool_id, WQ.c.name == name))
    return found is not None


async def create_work_queue(db: Database, pool_name: str, body: WorkQueueCreate) -> dict[str, Any]:
    def job(conn: sa.Connection) -> dict[str, Any]:
        now = utcnow()
        pool = lock_pool(conn, pool_name)
        if _name_taken(conn, pool.id, body.name):
            raise _queue_exists(pool_name, body.name)
        queue_id = create_queue(
            conn,
            pool.id,
            body.name,
            now,
            priority=body.priority,
            description=body.description,
            is_paused=body.is_paused,
            concurrency_limit=body.concurrency_limit,
        )
        found = _one(conn, WQ.c.id == queue_id)
        assert found is not None  # inserted just now, in this transaction
        return found

    return await db.write(job)


def _locked_queue(conn: sa.Connection, *where: sa.ColumnElement[bool]) -> tuple[Any, Any] | None:
    """(queue, pool) rows of the queue `where` finds, the pool row locked."""
    queue = conn.execute(sa.select(WQ.c.id, WQ.c.name, WQ.c.work_pool_id).where(*where)).first()
    if queue is None:
        return None
    pool = conn.execute(
        sa.select(WP.c.id, WP.c.name, WP.c.default_queue_id)
        .where(WP.c.id == queue.work_pool_id)
        .with_for_update()
    ).one()
    return queue, pool


def _update(conn: sa.Connection, queue: Any, pool: Any, changes: dict[str, Any]) -> None:
    now = utcnow()
    renamed = "name" in changes and changes["name"] != queue.name
    if renamed and _name_taken(conn, pool.id, changes["name"]):
        raise _queue_exists(pool.name, changes["name"])
    if "priority" in changes:
        _make_room(conn, pool.id, changes["priority"], now, moving=queue.id)
    conn.execute(WQ.update().where(WQ.c.id == queue.id).values(**changes, updated=now))
    if renamed:  # deployments name their queue as well as pointing at it
        conn.execute(
            t.deployment.update()
            .where(t.deployment.c.work_queue_id == queue.id)
            .values(work_queue_name=changes["name"])
        )


async def update_work_queue(
    db: Database, pool_name: str, name: str, changes: dict[str, Any]
) -> None:
    def job(conn: sa.Connection) -> None:
        pool = lock_pool(conn, pool_name)
        found = _locked_queue(conn, WQ.c.work_pool_id == pool.id, WQ.c.name == name)
        if found is None:
            raise queue_not_found(pool_name, name)
        _update(conn, *found, changes)

    await db.write(job)


async def update_work_queue_by_id(
    db: Database, queue_id: uuid.UUID, changes: dict[str, Any]
) -> None:
    def job(conn: sa.Connection) -> None:
        found = _locked_queue(conn, WQ.c.id == queue_id)
        if found is None:
            raise NotFound(QUEUE_NOT_FOUND)
        _update(conn, *found, changes)

    await db.write(job)


def _delete(conn: sa.Connection, queue: Any, pool: Any) -> None:
    if queue.id == pool.default_queue_id:
        raise Conflict(
            f'"{queue.name}" is the default queue of work pool "{pool.name}"; '
            "a pool's default queue cannot be deleted."
        )
    # Deployments of this queue keep its name; their work_queue_id becomes null (FK).
    conn.execute(WQ.delete().where(WQ.c.id == queue.id))


async def delete_work_queue(db: Database, pool_name: str, name: str) -> None:
    def job(conn: sa.Connection) -> None:
        pool = lock_pool(conn, pool_name)
        found = _locked_queue(conn, WQ.c.work_pool_id == pool.id, WQ.c.name == name)
        if found is None:
            raise queue_not_found(pool_name, name)
        _delete(conn, *found)

    await db.write(job)


async def delete_work_queue_by_id(db: Database, queue_id: uuid.UUID) -> None:
    def job(conn: sa.Connection) -> None:
        found = _locked_queue(conn, WQ.c.id == queue_id)
        if found is None:
            raise NotFound(QUEUE_NOT_FOUND)
        _delete(conn, *found)

    await db.write(job)
