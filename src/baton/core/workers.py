"""Workers: the processes that serve a pool, known by their heartbeats (REST or the worker
channel). A worker is ONLINE while its last heartbeat is younger than MISSED_HEARTBEATS of
its heartbeat intervals, OFFLINE after; the status is computed whenever it is read, so no
service has to flip it and a stopped worker goes OFFLINE on time even with services off.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow, uuid7
from baton.core import filters as qf
from baton.core.work_queues import pool_not_found
from baton.db import tables as t
from baton.db.database import Database
from baton.db.dialect import insert
from baton.db.types import Timestamp
from baton.errors import NotFound
from baton.schemas.work_pools import WorkerFilter, WorkerFilterBody, WorkerStatus

W = t.worker
WP = t.work_pool

DEFAULT_HEARTBEAT_INTERVAL = 30  # seconds, for a worker that did not say
# A worker that missed this many heartbeats in a row is OFFLINE (90 s at the default).
MISSED_HEARTBEATS = 3


def is_online(last_heartbeat: dt.datetime, interval: int | None, now: dt.datetime) -> bool:
    allowed = (interval or DEFAULT_HEARTBEAT_INTERVAL) * MISSED_HEARTBEATS
    return (now - last_heartbeat).total_seconds() < allowed


def online_clause(dialect: str, now: dt.datetime) -> qf.Clause:
    """`is_online` in SQL, for filters and for pool status over many pools at once."""
    seconds = sa.func.coalesce(W.c.heartbeat_interval_seconds, DEFAULT_HEARTBEAT_INTERVAL) * (
        MISSED_HEARTBEATS
    )
    at = sa.literal(now, Timestamp())
    if dialect == "postgresql":
        deadline = W.c.last_heartbeat_time + sa.func.make_interval(0, 0, 0, 0, 0, 0, seconds)
        return deadline > at
    # SQLite keeps timestamps as ISO text; julianday turns both sides into (fractional) days.
    return sa.func.julianday(W.c.last_heartbeat_time) + seconds / 86400.0 > sa.func.julianday(at)


def worker_out(row: Any, now: dt.datetime) -> dict[str, Any]:
    online = is_online(row.last_heartbeat_time, row.heartbeat_interval_seconds, now)
    return {
        "id": row.id,
        "created": row.created,
        "updated": row.updated,
        "name": row.name,
        "work_pool_id": row.work_pool_id,
        "last_heartbeat_time": row.last_heartbeat_time,
        "heartbeat_interval_seconds": row.heartbeat_interval_seconds,
        "status": WorkerStatus.ONLINE.value if online else WorkerStatus.OFFLINE.value,
    }


def pool_id_of(conn: sa.Connection, pool_name: str) -> uuid.UUID:
    found: uuid.UUID | None = conn.scalar(sa.select(WP.c.id).where(WP.c.name == pool_name))
    if found is None:
        raise pool_not_found(pool_name)
    return found


def upsert_worker(
    conn: sa.Connection, pool_id: uuid.UUID, name: str, interval: int | None, now: dt.datetime
) -> uuid.UUID:
    """Record a heartbeat of worker `name` of the pool, creating the worker on its first;
    returns the worker's id. A heartbeat without an interval keeps the known one."""
    changes: dict[str, Any] = {"last_heartbeat_time": now, "updated": now}
    if interval is not None:
        changes["heartbeat_interval_seconds"] = interval
    stmt = (
        insert(conn, W)
        .values(
            id=uuid7(),
            created=now,
            updated=now,
            work_pool_id=pool_id,
            name=name,
            last_heartbeat_time=now,
            heartbeat_interval_seconds=interval,
        )
        .on_conflict_do_update(index_elements=["work_pool_id", "name"], set_=changes)
        .returning(W.c.id)
    )
    worker_id: uuid.UUID = conn.execute(stmt).scalar_one()
    return worker_id


async def heartbeat(db: Database, pool_name: str, name: str, interval: int | None) -> uuid.UUID:
    """A REST heartbeat (the worker's fallback when the channel is unavailable)."""

    def job(conn: sa.Connection) -> uuid.UUID:
        return upsert_worker(conn, pool_id_of(conn, pool_name), name, interval, utcnow())

    return await db.write(job)


async def channel_heartbeat(
    db: Database, pool_id: uuid.UUID, name: str, interval: int | None
) -> None:
    """A heartbeat frame of a connected worker; NotFound if its pool was deleted since."""

    def job(conn: sa.Connection) -> None:
        if conn.scalar(sa.select(WP.c.id).where(WP.c.id == pool_id)) is None:
            raise NotFound("The worker's work pool no longer exists.")
        upsert_worker(conn, pool_id, name, interval, utcnow())

    await db.write(job)


def _status_clauses(
    statuses: list[WorkerStatus] | None, online: qf.Clause, negate: bool
) -> list[qf.Clause]:
    if statuses is None:
        return []
    wanted = set(statuses)
    if wanted >= {WorkerStatus.ONLINE, WorkerStatus.OFFLINE}:
        clause: qf.Clause = sa.true()
    elif WorkerStatus.ONLINE in wanted:
        clause = online
    elif WorkerStatus.OFFLINE in wanted:
        clause = sa.not_(online)
    else:
        clause = sa.false()
    return [sa.not_(clause) if negate else clause]


def worker_clause(flt: WorkerFilter | None, dialect: str, now: dt.datetime) -> qf.Clause:
    if flt is None:
        return sa.true()
    clauses: list[qf.Clause] = []
    if flt.last_heartbeat_time is not None:
        if flt.last_heartbeat_time.before_ is not None:
            clauses.append(W.c.last_heartbeat_time <= flt.last_heartbeat_time.before_)
        if flt.last_heartbeat_time.after_ is not None:
            clauses.append(W.c.last_heartbeat_time >= flt.last_heartbeat_time.after_)
    if flt.status is not None:
        online = online_clause(dialect, now)
        clauses += _status_clauses(flt.status.any_, online, negate=False)
        clauses += _status_clauses(flt.status.not_any_, online, negate=True)
    return qf.combine(flt.operator, clauses)


async def filter_workers(
    db: Database, pool_name: str, body: WorkerFilterBody
) -> list[dict[str, Any]]:
    """A pool's workers matching the filter, the most recently heard from first."""
    limit, offset = body.page
    now = utcnow()
    async with db.read() as conn:
        pool_id = await conn.run_sync(pool_id_of, pool_name)
        rows = (
            await conn.execute(
                sa.select(W)
                .where(
                    W.c.work_pool_id == pool_id, worker_clause(body.workers, conn.dialect.name, now)
                )
                .order_by(W.c.last_heartbeat_time.desc(), W.c.name)
                .limit(limit)
                .offset(offset)
            )
        ).all()
    return [worker_out(r, now) for r in rows]


async def delete_worker(db: Database, pool_name: str, name: str) -> None:
    def job(conn: sa.Connection) -> None:
        pool_id = pool_id_of(conn, pool_name)
        done = conn.execute(W.delete().where(W.c.work_pool_id == pool_id, W.c.name == name))
        if done.rowcount == 0:
            raise NotFound(f'Worker "{name}" not found in work pool "{pool_name}".')

    await db.write(job)
