"""The scheduler: turns deployment schedules into Scheduled runs, a bounded horizon ahead.

A pass finds, with reads only, the deployments whose schedules call for runs that do not
exist yet, then inserts those runs one deployment per write job. The API nudges it when a
deployment is created, changed or un-paused, so new runs appear within a second or so.
"""

from __future__ import annotations

import logging

from baton.core.clock import utcnow
from baton.core.deployment_runs import Horizon, deployments_needing_runs, schedule_runs
from baton.db.database import Database
from baton.events.store import EventBus

log = logging.getLogger("baton.services.scheduler")


async def schedule_pass(db: Database, bus: EventBus, horizon: Horizon) -> int:
    """One pass: returns how many runs it created."""
    created = 0
    for deployment_id in await deployments_needing_runs(db, horizon, utcnow()):
        created += await schedule_runs(db, bus, deployment_id, horizon)
    if created:
        log.info("scheduled %d runs", created)
    return created
