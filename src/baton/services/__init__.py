"""Background services, started by the app's lifespan unless `--no-services`."""

from __future__ import annotations

import datetime as dt

from baton.core.deployment_runs import Horizon
from baton.core.flow_runs import mark_late_runs
from baton.core.run_cleanup import cancel_orphans, crash_zombies, finish_stuck_cancellations
from baton.db.database import Database
from baton.events.store import EventBus
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
        self.all = [self.scheduler, self.late_runs, self.cleanup]

    def start(self) -> None:
        for service in self.all:
            service.start()

    async def stop(self) -> None:
        for service in self.all:
            await service.stop()

    def nudge_scheduler(self) -> None:
        self.scheduler.nudge()
