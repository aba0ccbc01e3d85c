"""The scheduler's horizon: which runs to create ahead of time, and the key that makes
creating one twice a no-op."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from baton.orchestration.schedules.base import require_aware
from baton.orchestration.schedules.wire import Schedule
from baton.orchestration.schedules.zones import UTC


def runs_to_schedule(
    schedule: Schedule,
    now: dt.datetime,
    *,
    min_runs: int = 3,
    max_runs: int = 100,
    min_time: dt.timedelta = dt.timedelta(hours=1),
    max_time: dt.timedelta = dt.timedelta(days=100),
    max_scheduled_runs: int | None = None,
) -> list[dt.datetime]:
    """The run times the scheduler should make sure exist, starting at `now` (inclusive).

    Enough to have `min_runs` runs or to reach `now + min_time`, whichever is more, but at
    most `max_runs` (and `max_scheduled_runs`, when set) and none after `now + max_time`.
    The times come from the schedule's own alignment, never from `now`, so repeated calls
    produce the same instants and idempotent inserts do not duplicate runs."""
    cap = max_runs if max_scheduled_runs is None else min(max_runs, max_scheduled_runs)
    end = now + max_time
    # Two bounded asks rather than `cap` runs cut short: an hourly cron needs 3, not 100.
    soon = schedule.next_times(now, until=min(now + min_time, end), limit=cap)
    if len(soon) >= min_runs:
        return soon
    return schedule.next_times(now, until=end, limit=min(cap, min_runs))


def idempotency_key(deployment_id: UUID | str, schedule_id: UUID | str, when: dt.datetime) -> str:
    """The key that makes creating the same scheduled run twice a no-op."""
    require_aware(when, "when")
    return f"scheduled {deployment_id} {schedule_id} {when.astimezone(UTC)}"
