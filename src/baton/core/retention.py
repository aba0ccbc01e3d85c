"""Retention: what is old enough to delete, and deleting it in small batches.

Kinds and their default ages (days; 0 keeps forever):
- logs: 30, by the log's timestamp;
- events: 30, by when they occurred;
- flow runs: 90 after they ended, terminal runs only (COMPLETED, FAILED, CANCELLED,
  CRASHED), together with their states, task runs, logs and artifacts;
- audit entries: 365.
Each batch is one short write transaction, so the API never waits long behind retention.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from baton.core.artifacts import delete_artifacts
from baton.db import tables as t
from baton.db.database import Database
from baton.orchestration.states import TERMINAL

FR, LOG, EV, AUDIT = t.flow_run, t.log, t.event, t.audit
KINDS = ("flow_runs", "logs", "events", "audit")
_TERMINAL = [s.value for s in TERMINAL]


@dataclass(frozen=True)
class RetentionPolicy:
    logs_days: float = 30
    events_days: float = 30
    flow_runs_days: float = 90
    audit_days: float = 365

    def cutoffs(self, now: dt.datetime) -> dict[str, dt.datetime | None]:
        """The time before which each kind is deleted (None: kept forever)."""
        days = {
            "flow_runs": self.flow_runs_days,
            "logs": self.logs_days,
            "events": self.events_days,
            "audit": self.audit_days,
        }
        return {k: (now - dt.timedelta(days=d) if d > 0 else None) for k, d in days.items()}


def _expired(kind: str, cutoff: dt.datetime) -> tuple[sa.Table, sa.ColumnElement[bool]]:
    if kind == "logs":
        return LOG, LOG.c.timestamp < cutoff
    if kind == "events":
        return EV, EV.c.occurred < cutoff
    if kind == "audit":
        return AUDIT, AUDIT.c.at < cutoff
    ended = sa.func.coalesce(FR.c.end_time, FR.c.state_timestamp)
    return FR, sa.and_(FR.c.state_type.in_(_TERMINAL), ended < cutoff)


async def count_expired(db: Database, policy: RetentionPolicy, now: dt.datetime) -> dict[str, int]:
    """How many of each kind retention would delete now (flow runs are counted alone;
    their task runs, logs and artifacts go with them)."""
    counts = dict.fromkeys(KINDS, 0)
    async with db.read() as conn:
        for kind, cutoff in policy.cutoffs(now).items():
            if cutoff is None:
                continue
            table, where = _expired(kind, cutoff)
            counts[kind] = int(
                await conn.scalar(sa.select(sa.func.count()).select_from(table).where(where)) or 0
            )
    return counts


def _delete_batch(conn: sa.Connection, kind: str, cutoff: dt.datetime, batch: int) -> int:
    table, where = _expired(kind, cutoff)
    ids = list(conn.scalars(sa.select(table.c.id).where(where).limit(batch)))
    if not ids:
        return 0
    if kind == "flow_runs":
        # Logs and artifacts name their run without a foreign key: delete them first.
        conn.execute(LOG.delete().where(LOG.c.flow_run_id.in_(ids)))
        delete_artifacts(conn, t.artifact.c.flow_run_id.in_(ids))
    # States, task runs and their states, event resources: by foreign-key cascade.
    conn.execute(table.delete().where(table.c.id.in_(ids)))
    return len(ids)


async def delete_expired(
    db: Database,
    policy: RetentionPolicy,
    now: dt.datetime,
    *,
    batch: int = 500,
    max_batches: int | None = None,
) -> dict[str, int]:
    """Delete what is expired, one batch (one transaction) at a time, until nothing is
    left or `max_batches` per kind ran. Returns how many of each kind went."""
    deleted = dict.fromkeys(KINDS, 0)
    for kind, cutoff in policy.cutoffs(now).items():
        if cutoff is None:
            continue
        batches = 0
        while max_batches is None or batches < max_batches:

            def job(conn: sa.Connection, kind: str = kind, cutoff: Any = cutoff) -> int:
                return _delete_batch(conn, kind, cutoff, batch)

            count = await db.write(job)
            deleted[kind] += count
            batches += 1
            if count < batch:
                break
    return deleted
