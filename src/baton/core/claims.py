"""Handing a pool's due runs to the workers that poll it, each run to exactly one worker.

A poll claims the runs it returns: `flow_run.claimed_until` is set a lease ahead, and no
other poll returns a run while its claim holds. The worker then proposes PENDING as usual;
if it dies first, the claim lapses and the run is handed out again. On PostgreSQL the
candidates are locked with FOR UPDATE SKIP LOCKED, so concurrent polls (on any replica)
take disjoint runs; on SQLite the single writer runs polls one after the other.

Concurrency limits of the pool, its queues and the runs' deployments count the runs that
are PENDING, RUNNING or CANCELLING plus those claimed and not yet started.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow
from baton.core.runs import list_runs
from baton.core.work_queues import pool_not_found
from baton.db import tables as t
from baton.db.database import Database
from baton.orchestration.states import StateType

FR, WQ, WP, D = t.flow_run, t.work_queue, t.work_pool, t.deployment
# How long a claim holds if the worker never moves the run on.
CLAIM_LEASE = dt.timedelta(seconds=60)
DEFAULT_LIMIT = 100
_ACTIVE = (StateType.PENDING.value, StateType.RUNNING.value, StateType.CANCELLING.value)


@dataclass(frozen=True)
class Claimed:
    run_id: uuid.UUID
    work_pool_id: uuid.UUID
    work_queue_id: uuid.UUID


def _occupied(
    conn: sa.Connection, column: sa.ColumnElement[Any], keys: Sequence[Any], now: dt.datetime
) -> Counter[Any]:
    """Slots in use per value of `column`: active runs plus live claims."""
    if not keys:
        return Counter()
    busy = sa.or_(
        FR.c.state_type.in_(_ACTIVE),
        sa.and_(FR.c.state_type == StateType.SCHEDULED.value, FR.c.claimed_until > now),
    )
    rows = conn.execute(
        sa.select(column, sa.func.count()).where(column.in_(keys), busy).group_by(column)
    )
    counts: dict[Any, int] = {key: count for key, count in rows}  # noqa: C416
    return Counter(counts)


def claim_due_runs(
    conn: sa.Connection,
    pool_name: str,
    queue_names: Sequence[str] | None,
    before: dt.datetime,
    after: dt.datetime | None,
    limit: int,
    now: dt.datetime,
) -> list[Claimed]:
    """Inside a write job: claim up to `limit` due Scheduled runs of the pool's unpaused
    queues (all of them, or those named), highest-priority queue first, then soonest."""
    pool = conn.execute(
        sa.select(WP.c.id, WP.c.is_paused, WP.c.concurrency_limit).where(WP.c.name == pool_name)
    ).first()
    if pool is None:
        raise pool_not_found(pool_name)
    queue_query = sa.select(WQ.c.id, WQ.c.is_paused, WQ.c.concurrency_limit).where(
        WQ.c.work_pool_id == pool.id
    )
    if queue_names:
        queue_query = queue_query.where(WQ.c.name.in_(queue_names))
    queues = conn.execute(queue_query).all()
    polled = [q.id for q in queues]
    if polled:  # the queues and their deployments are polled: READY
        conn.execute(WQ.update().where(WQ.c.id.in_(polled)).values(last_polled=now))
        conn.execute(D.update().where(D.c.work_queue_id.in_(polled)).values(last_polled=now))
    if pool.is_paused:
        return []
    open_queues = {q.id: q for q in queues if not q.is_paused}
    if not open_queues:
        return []

    due = [
        FR.c.work_queue_id.in_(list(open_queues)),
        FR.c.state_type == StateType.SCHEDULED.value,
        FR.c.next_scheduled_start_time <= before,
        sa.or_(FR.c.claimed_until.is_(None), FR.c.claimed_until <= now),
    ]
    if after is not None:
        due.append(FR.c.next_scheduled_start_time >= after)
    candidates_query = (
        sa.select(FR.c.id, FR.c.work_queue_id, FR.c.deployment_id)
        .join(WQ, WQ.c.id == FR.c.work_queue_id)
        .where(*due)
        .order_by(WQ.c.priority, FR.c.next_scheduled_start_time, FR.c.id)
        .limit(limit * 4)  # room for runs a concurrency limit holds back
        .with_for_update(skip_locked=True, of=FR)
    )
    candidates = conn.execute(candidates_query).all()
    if not candidates:
        return []

    pool_free = None
    if pool.concurrency_limit is not None:
        pool_free = (
            pool.concurrency_limit - _occupied(conn, FR.c.work_pool_id, [pool.id], now)[pool.id]
        )
    queue_busy = _occupied(conn, FR.c.work_queue_id, list(open_queues), now)
    deployment_ids = list({c.deployment_id for c in candidates if c.deployment_id is not None})
    limits = dict(
        conn.execute(
            sa.select(D.c.id, D.c.concurrency_limit).where(
                D.c.id.in_(deployment_ids), D.c.concurrency_limit.is_not(None)
            )
        ).all()
    )
    deployment_busy = _occupied(conn, FR.c.deployment_id, list(limits), now)

    chosen: list[Claimed] = []
    for candidate in candidates:
        if len(chosen) >= limit or (pool_free is not None and pool_free <= 0):
            break
        queue = open_queues[candidate.work_queue_id]
        if queue.concurrency_limit is not None and queue_busy[queue.id] >= queue.concurrency_limit:
            continue
        deployment_limit = limits.get(candidate.deployment_id)
        if (
            deployment_limit is not None
            and deployment_busy[candidate.deployment_id] >= deployment_limit
        ):
            continue
        chosen.append(Claimed(candidate.id, pool.id, candidate.work_queue_id))
        queue_busy[queue.id] += 1
        deployment_busy[candidate.deployment_id] += 1
        if pool_free is not None:
            pool_free -= 1
    if chosen:
        conn.execute(
            FR.update()
            .where(FR.c.id.in_([c.run_id for c in chosen]))
            .values(claimed_until=now + CLAIM_LEASE)
        )
    return chosen


async def get_scheduled_flow_runs(
    db: Database,
    pool_name: str,
    queue_names: Sequence[str] | None,
    before: dt.datetime | None,
    after: dt.datetime | None,
    limit: int | None,
) -> list[dict[str, Any]]:
    """Claim the pool's due runs and return them as the worker expects them:
    `[{work_pool_id, work_queue_id, flow_run}]`, in the order claimed."""

    def job(conn: sa.Connection) -> list[Claimed]:
        now = utcnow()
        return claim_due_runs(
            conn, pool_name, queue_names, before or now, after, limit or DEFAULT_LIMIT, now
        )

    claimed = await db.write(job)
    if not claimed:
        return []
    async with db.read() as conn:
        runs = await list_runs(conn, FR, [FR.c.id.in_([c.run_id for c in claimed])])
    by_id = {str(run["id"]): run for run in runs}
    out = []
    for claim in claimed:
        run = by_id.get(str(claim.run_id))
        if run is not None:
            out.append(
                {
                    "work_pool_id": claim.work_pool_id,
                    "work_queue_id": claim.work_queue_id,
                    "flow_run": run,
                }
            )
    return out
