"""Interval schedules: a run every so many seconds, aligned with an anchor date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from baton.orchestration.schedules.base import ScheduleError, bounded, require_aware
from baton.orchestration.schedules.words import every
from baton.orchestration.schedules.zones import DAY, UTC, localize, zone


@dataclass(frozen=True)
class IntervalSchedule:
    """Runs at `anchor_date + k * interval` for every integer k (the anchor only aligns
    runs; it is not a start date). Whole-day intervals keep the anchor's wall-clock time in
    `timezone` across DST changes; shorter ones are exact elapsed time."""

    kind: ClassVar[str] = "IntervalSchedule"

    interval: dt.timedelta
    anchor_date: dt.datetime
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.interval <= dt.timedelta(0):
            raise ScheduleError("interval: must be greater than 0")
        if self.anchor_date.tzinfo is None:
            raise ScheduleError("interval: anchor_date must be timezone-aware")
        zone(self.timezone)

    @property
    def _keeps_wall_clock(self) -> bool:
        return self.interval % DAY == dt.timedelta(0)

    def next_times(
        self, after: dt.datetime, until: dt.datetime | None = None, limit: int = 100
    ) -> list[dt.datetime]:
        """Run times >= `after` (and <= `until`), at most `limit`, in UTC, ascending."""
        require_aware(after, "after")
        runs = self._wall_clock_runs(after) if self._keeps_wall_clock else self._exact_runs(after)
        return bounded(runs, after, until, limit)

    def _exact_runs(self, after: dt.datetime) -> Iterator[dt.datetime]:
        anchor = self.anchor_date.astimezone(UTC)
        k = -((anchor - after) // self.interval)  # ceil((after - anchor) / interval)
        while True:
            yield anchor + k * self.interval
            k += 1

    def _wall_clock_runs(self, after: dt.datetime) -> Iterator[dt.datetime]:
        where = zone(self.timezone)
        anchor = self.anchor_date.astimezone(where).replace(tzinfo=None)
        wall_after = after.astimezone(where).replace(tzinfo=None)
        k = (wall_after - anchor) // self.interval - 1  # a step early: DST shifts are < a day
        while True:
            yield localize(anchor + k * self.interval, where)
            k += 1

    def to_wire(self) -> dict[str, object]:
        return {
            "interval": self.interval.total_seconds(),
            "anchor_date": self.anchor_date.isoformat(),
            "timezone": self.timezone,
        }

    def describe(self) -> str:
        """The schedule in words, for the UI and the CLI."""
        seconds = self.interval.total_seconds()
        if not self._keeps_wall_clock:
            for unit, size in (("hour", 3600), ("minute", 60)):
                if seconds % size == 0:
                    return every(int(seconds // size), unit)
            return every(int(seconds) if seconds.is_integer() else seconds, "second")
        local = self.anchor_date.astimezone(zone(self.timezone))
        return f"{every(self.interval.days, 'day')} at {local:%H:%M} ({self.timezone})"
