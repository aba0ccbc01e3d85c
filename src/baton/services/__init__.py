"""Background services, started by the app's lifespan unless `--no-services`."""

from __future__ import annotations

import datetime as dt

from baton.clock import utcnow
from baton.core.deployment_runs import Horizon
from baton.core.flow_runs import mark_late_runs
from baton.core.retention import RetentionPolicy, delete_expired
from baton.core.run_cleanup import cancel_orphans, crash_zombies, finish_stuck_cancellations
from baton.db.database import Database
from baton.events.store import EventBus
from baton.services.lease_expiry import expire_leases
from baton.services.loop import Service
from baton.services.scheduler import schedule_pass
from baton.settings import Settings


def horizon_of(settings: Settings) -> Horizon:
    return Horizon(
        min_runs=settings.scheduler_min_runs,
        max_runs=settings.scheduler_max_runs,
        min_time=dt.timedelta(seconds=settings.scheduler_min_time),
        max_time=dt.timedelta(seconds=settings.scheduler_max_time),
    )


def retention_of(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(
        logs_days=settings.retention_logs_days,
        events_days=settings.retention_events_days,
        flow_runs_days=settings.retention_flow_runs_days,
        audit_days=settings.retention_audit_days,
    )


# Per retention pass, at most this many batches (of 500) of each kind: a large backlog is
# worked off over several passes rather than in one long burst.
RETENTION_BATCHES = 20
LEASE_EXPIRY_INTERVAL = 5.0


class Services:
    """The running services of one server process."""

    def __init__(self, settings: Settings, db: Database, bus: EventBus) -> None:
        horizon = horizon_of(settings)
        late_after = dt.timedelta(seconds=settings.late_runs_after)
        self.scheduler = Service(
            "scheduler", settings.scheduler_interval, lambda: schedule_pass(db, bus, horizon)
        )
        self.late_runs = Service(
            "late-runs", settings.late_runs_interval, lambda: mark_late_runs(db, bus, late_after)
        )
        cancelling = dt.timedelta(seconds=settings.cancelling_timeout)
        zombie = dt.timedelta(seconds=settings.zombie_after)

        async def cleanup() -> int:
            return (
                await finish_stuck_cancellations(db, bus, cancelling)
                + await cancel_orphans(db, bus)
                + await crash_zombies(db, bus, zombie)
            )

        self.cleanup = Service("run-cleanup", settings.cleanup_interval, cleanup)
        policy = retention_of(settings)

        async def retention() -> int:
            deleted = await delete_expired(db, policy, utcnow(), max_batches=RETENTION_BATCHES)
            return sum(deleted.values())

        self.retention = Service("retention", settings.retention_interval, retention)
        # Concurrency slots held by leases their holders stopped renewing go back.
        self.leases = Service("lease-expiry", LEASE_EXPIRY_INTERVAL, lambda: expire_leases(db))
        self.all = [self.scheduler, self.late_runs, self.cleanup, self.retention, self.leases]

    def start(self) -> None:
        for service in self.all:
            service.start()

    async def stop(self) -> None:
        for service in self.all:
            await service.stop()

    def nudge_scheduler(self) -> None:
        self.scheduler.nudge()
