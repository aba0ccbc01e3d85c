"""Runs that nobody will move on any more, moved on by the server's services:

- a run left in CANCELLING past a timeout (its worker never confirmed) becomes CANCELLED;
- the unfinished subflows and task runs of a CANCELLED flow run become CANCELLED;
- a RUNNING run whose worker stopped heartbeating, or which stopped sending its own
  `prefect.flow-run.heartbeat` events, becomes CRASHED (a "zombie"; the reference leaves
  this to an automation users must write themselves).

Each step returns how many runs it moved. Every change goes through `set_flow_run_state`
with `only_from`, so a run that moved on by itself meanwhile is left alone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow
from baton.core.flow_runs import set_flow_run_state
from baton.core.task_runs import set_task_run_state
from baton.db import tables as t
from baton.db.database import Database
from baton.events.store import EventBus
from baton.orchestration.states import TERMINAL, StateType
from baton.schemas.states import StateCreate

FR, TR = t.flow_run, t.task_run
BATCH = 200
# Prefect's default PREFECT_FLOWS_HEARTBEAT_FREQUENCY: what a run that has sent a single
# heartbeat (the one at its start) is taken to send next.
CLIENT_HEARTBEAT = dt.timedelta(seconds=180)
# A run is a zombie once it has missed this many of its own heartbeats (and at least
# BATON_ZOMBIE_AFTER has passed): one late beat on a busy machine is not a crash.
MISSED_BEATS = 3
_TERMINAL = [s.value for s in TERMINAL]


def _state(kind: StateType, name: str, message: str) -> StateCreate:
    return StateCreate(type=kind, name=name, message=message)


async def finish_stuck_cancellations(
    db: Database, bus: EventBus, timeout: dt.timedelta, now: dt.datetime | None = None
) -> int:
    cutoff = (now or utcnow()) - timeout
    async with db.read() as conn:
        stuck = (
            await conn.execute(
                sa.select(FR.c.id, FR.c.state_name)
                .where(
                    FR.c.state_type == StateType.CANCELLING.value, FR.c.state_timestamp <= cutoff
                )
                .limit(BATCH)
            )
        ).all()
    message = "Cancelled by the server: no worker confirmed the cancellation in time."
    moved = 0
    for run_id, name in stuck:
        result = await set_flow_run_state(
            db,
            bus,
            run_id,
            _state(StateType.CANCELLED, "Cancelled", message),
            force=True,
            only_from=(StateType.CANCELLING.value, name),
        )
        moved += result.decision.written
    return moved


async def cancel_orphans(db: Database, bus: EventBus) -> int:
    """Unfinished subflows and task runs of CANCELLED flow runs become CANCELLED."""
    cancelled = sa.select(FR.c.id).where(FR.c.state_type == StateType.CANCELLED.value)
    unfinished_tr = sa.or_(TR.c.state_type.is_(None), TR.c.state_type.not_in(_TERMINAL))
    parent_tasks = sa.select(TR.c.id).where(TR.c.flow_run_id.in_(cancelled))
    async with db.read() as conn:
        subflows = (
            await conn.execute(
                sa.select(FR.c.id, FR.c.state_type, FR.c.state_name)
                .where(
                    FR.c.parent_task_run_id.in_(parent_tasks),
                    FR.c.state_type.not_in(_TERMINAL),
                )
                .limit(BATCH)
            )
        ).all()
        tasks = (
            await conn.execute(
                sa.select(TR.c.id)
                .where(TR.c.flow_run_id.in_(cancelled), unfinished_tr)
                .limit(BATCH)
            )
        ).all()
    message = "Cancelled because its parent flow run was cancelled."
    moved = 0
    for run_id, kind, name in subflows:
        result = await set_flow_run_state(
            db,
            bus,
            run_id,
            _state(StateType.CANCELLED, "Cancelled", message),
            force=True,
            only_from=(kind, name),
        )
        moved += result.decision.written
    for (task_id,) in tasks:
        done = await set_task_run_state(
            db, task_id, _state(StateType.CANCELLED, "Cancelled", message), force=True
        )
        moved += done.decision.written
    return moved


async def crash_zombies(
    db: Database,
    bus: EventBus,
    silence: dt.timedelta,
    now: dt.datetime | None = None,
) -> int:
    """RUNNING runs whose worker, or whose own heartbeat events, went silent for longer
    than `silence` become CRASHED."""
    now = now or utcnow()
    cutoff = now - silence
    async with db.read() as conn:
        running = (
            await conn.execute(
                sa.select(
                    FR.c.id, FR.c.state_name, FR.c.labels, FR.c.work_pool_id, FR.c.state_timestamp
                )
                .where(FR.c.state_type == StateType.RUNNING.value, FR.c.state_timestamp <= cutoff)
                .limit(BATCH)
            )
        ).all()
        if not running:
            return 0
        silent = await _silent_workers(conn, running, cutoff)
        beats = await _last_heartbeats(conn, [r.id for r in running])
    zombies: list[tuple[uuid.UUID, str, str]] = []
    for run in running:
        worker = (run.labels or {}).get("prefect.worker.name")
        beat = beats.get(f"prefect.flow-run.{run.id}")
        if beat is not None:
            allowed = max(silence, MISSED_BEATS * beat.interval)
            if now - beat.last > allowed:
                why = f"it sent no heartbeat for over {allowed.total_seconds():g} s"
                zombies.append((run.id, run.state_name, why))
        elif (run.work_pool_id, worker) in silent:
            why = f"its worker {worker!r} sent no heartbeat for over {silence.total_seconds():g} s"
            zombies.append((run.id, run.state_name, why))
    moved = 0
    for run_id, name, why in zombies:
        message = f"Crashed: the run was RUNNING but {why}."
        result = await set_flow_run_state(
            db,
            bus,
            run_id,
            _state(StateType.CRASHED, "Crashed", message),
            only_from=(StateType.RUNNING.value, name),
        )
        moved += result.decision.written
    return moved


async def _silent_workers(
    conn: Any, running: Sequence[Any], cutoff: dt.datetime
) -> set[tuple[uuid.UUID, str]]:
    """(pool id, worker name) of the runs' workers whose last heartbeat is before `cutoff`."""
    pools = {r.work_pool_id for r in running if r.work_pool_id is not None}
    if not pools:
        return set()
    rows = await conn.execute(
        sa.select(t.worker.c.work_pool_id, t.worker.c.name).where(
            t.worker.c.work_pool_id.in_(pools), t.worker.c.last_heartbeat_time <= cutoff
        )
    )
    return {(pool_id, name) for pool_id, name in rows}


@dataclass(frozen=True)
class _Beats:
    last: dt.datetime
    interval: dt.timedelta  # the run's own heartbeat interval, as far as it shows


async def _last_heartbeats(conn: Any, run_ids: list[uuid.UUID]) -> dict[str, _Beats]:
    """Each run's last `prefect.flow-run.heartbeat` and its interval, for runs that sent any.

    A client sends one heartbeat as its run starts, then one every
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds (180 by default, at least 30). The interval is
    read from the run's own beats; with a single beat it is taken to be the client's default.
    """
    ev = t.event
    rows = await conn.execute(
        sa.select(
            ev.c.resource_id,
            sa.func.min(ev.c.occurred),
            sa.func.max(ev.c.occurred),
            sa.func.count(),
        )
        .where(
            ev.c.resource_id.in_([f"prefect.flow-run.{run_id}" for run_id in run_ids]),
            ev.c.event == "prefect.flow-run.heartbeat",
        )
        .group_by(ev.c.resource_id)
    )
    beats = {}
    for resource_id, first, last, count in rows.all():
        interval = (last - first) / (count - 1) if count > 1 else CLIENT_HEARTBEAT
        beats[resource_id] = _Beats(last, interval)
    return beats
