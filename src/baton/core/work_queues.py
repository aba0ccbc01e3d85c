"""Finding a pool's queues by name, creating one when a deployment names a new one."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from baton.core.clock import uuid7
from baton.db import tables as t
from baton.errors import NotFound

WQ = t.work_queue


@dataclass(frozen=True)
class QueueRef:
    pool_id: uuid.UUID
    pool_name: str
    queue_id: uuid.UUID
    queue_name: str


def pool_not_found(name: str) -> NotFound:
    return NotFound(f'Work pool "{name}" not found.')


def resolve_queue(
    conn: sa.Connection, pool_name: str, queue_name: str | None, now: dt.datetime
) -> QueueRef:
    """The queue `queue_name` of pool `pool_name` (its default queue when None), created at
    the lowest priority when the pool has no queue of that name."""
    pool = conn.execute(
        sa.select(t.work_pool.c.id, t.work_pool.c.default_queue_id).where(
            t.work_pool.c.name == pool_name
        )
    ).first()
    if pool is None:
        raise pool_not_found(pool_name)
    where = WQ.c.id == pool.default_queue_id if queue_name is None else WQ.c.name == queue_name
    found = conn.execute(
        sa.select(WQ.c.id, WQ.c.name).where(WQ.c.work_pool_id == pool.id, where)
    ).first()
    if found is not None:
        return QueueRef(pool.id, pool_name, found.id, found.name)
    name = queue_name or "default"
    queue_id = create_queue(conn, pool.id, name, now)
    return QueueRef(pool.id, pool_name, queue_id, name)


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
