"""What the server's state looks like right now, for /api/metrics: runs by state, the
backlog of due runs, late runs, workers by pool and status. A few grouped queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from baton.core.workers import is_online
from baton.db import tables as t
from baton.db.database import Database
from baton.orchestration.states import StateType

FR = t.flow_run


@dataclass(frozen=True)
class Gauges:
    runs_by_state: dict[str, int]
    due_backlog: int  # Scheduled runs whose time has come, not yet picked up
    late: int
    workers: dict[tuple[str, str], int]  # (pool name, ONLINE|OFFLINE) -> count


async def read_gauges(db: Database, now: dt.datetime) -> Gauges:
    async with db.read() as conn:
        by_state = await conn.execute(
            sa.select(FR.c.state_type, sa.func.count()).group_by(FR.c.state_type)
        )
        runs = {str(kind or "NONE"): int(n) for kind, n in by_state}
        scheduled = FR.c.state_type == StateType.SCHEDULED.value
        due = await conn.scalar(
            sa.select(sa.func.count()).where(scheduled, FR.c.next_scheduled_start_time <= now)
        )
        late = await conn.scalar(
            sa.select(sa.func.count()).where(scheduled, FR.c.state_name == "Late")
        )
        rows = await conn.execute(
            sa.select(
                t.work_pool.c.name,
                t.worker.c.last_heartbeat_time,
                t.worker.c.heartbeat_interval_seconds,
            ).join(t.work_pool, t.work_pool.c.id == t.worker.c.work_pool_id)
        )
        workers: dict[tuple[str, str], int] = {}
        for pool, beat, interval in rows:
            status = "ONLINE" if is_online(beat, interval, now) else "OFFLINE"
            workers[(pool, status)] = workers.get((pool, status), 0) + 1
    return Gauges(runs, int(due or 0), int(late or 0), workers)
