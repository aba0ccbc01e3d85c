"""Deployment schedules: parse the interval, cron and rrule shapes the client sends, list
their next run times, and decide how many runs the scheduler should create. Pure: no I/O.

One idea per module: `zones` (time zones, wall times, DST changes), `interval`, `cron`,
`rrule`, `wire` (the shapes on the wire), `horizon` (the scheduler's runs), `words`
(`describe()` texts) and `base` (the error and the bounds every schedule shares).

Time-zone rules, so a schedule reads the same on any server:

- A wall time that happens twice (clocks go back) runs once, at its first occurrence.
- A wall time that never happens (clocks go forward): for cron, it runs as long after the
  jump as it reads into the gap, as on the reference server (02:30 on the night New York
  skips 02:00-03:00 runs at 03:30 EDT); for interval and rrule schedules, at the first
  instant after the gap (03:00 EDT).
- Each instant runs at most once: an hourly cron runs 23 times on the day clocks go
  forward and 24 (not 25) on the day they go back.
- `next_times(after, ...)` includes a run at exactly `after`, so a scheduler asking "from
  now" never drops the run that is due this instant.
"""

from baton.orchestration.schedules.base import DEFAULT_ANCHOR, ScheduleError
from baton.orchestration.schedules.cron import CronSchedule
from baton.orchestration.schedules.horizon import idempotency_key, runs_to_schedule
from baton.orchestration.schedules.interval import IntervalSchedule
from baton.orchestration.schedules.rrule import RRuleSchedule
from baton.orchestration.schedules.wire import Schedule, parse_schedule

__all__ = [
    "DEFAULT_ANCHOR",
    "CronSchedule",
    "IntervalSchedule",
    "RRuleSchedule",
    "Schedule",
    "ScheduleError",
    "idempotency_key",
    "parse_schedule",
    "runs_to_schedule",
]
