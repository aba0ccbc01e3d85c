"""The scheduler: turns deployment schedules into Scheduled runs, a bounded horizon ahead.

A pass finds, with reads only, the deployments whose schedules call for runs that do not
exist yet, then inserts those runs one deployment per write job. The API nudges it when a
deployment is created, changed or un-paused, so new runs appear within a second or so.
"""

from __future__ import annotations

import logging

from baton.clock import utcnow
from baton.core.deployment_runs import Horizon, deployments_needing_runs, schedule_runs
from baton.db.database import Database
from baton.events.store import EventBus

log = logging.getLogger("baton.services.scheduler")
# Deployments filled per write transaction.
BATCH = 25


async def schedule_pass(db: Database, bus: EventBus, horizon: Horizon) -> int:
    """One pass: returns how many runs it created (0: nothing was due). A deployment that
    fails is logged and left for the next pass; the others are still scheduled."""
    created = 0
    needing = await deployments_needing_runs(db, horizon, utcnow())
    for i in range(0, len(needing), BATCH):
        batch = needing[i : i + BATCH]
        try:
            created += await schedule_runs(db, bus, batch, horizon)
        except Exception:
            # One at a time, so one bad deployment does not hold back the others.
            for deployment_id in batch:
                try:
                    created += await schedule_runs(db, bus, [deployment_id], horizon)
                except Exception:
                    log.exception("scheduling %s failed; retrying next pass", deployment_id)
    if created:
        log.info("scheduled %d runs", created)
    return created
