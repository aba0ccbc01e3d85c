"""Time zones: naming them, turning wall-clock times into instants, and finding the clock
changes (DST) that the schedules must step around."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from baton.orchestration.schedules.base import ScheduleError

UTC = dt.UTC
DAY = dt.timedelta(days=1)
# Offset changes are searched for this far back, an hour at a time: no clock has ever
# jumped by more than a day (Samoa skipped 30 December 2011).
_CHANGE_SEARCH_HOURS = 25
_HOUR_SECONDS = 3600


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`, or a ScheduleError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ScheduleError(f"timezone: unknown time zone {name!r}") from None


def localize(wall: dt.datetime, where: ZoneInfo) -> dt.datetime:
    """The UTC instant of a naive wall-clock time, for interval and rrule schedules: a time
    that happens twice is its first occurrence; one that never happens (clocks went
    forward over it) is the first instant after the gap."""
    early = wall.replace(tzinfo=where, fold=0).astimezone(UTC)
    if early.astimezone(where).replace(tzinfo=None) == wall:
        return early  # exists; fold=0 is the first of two occurrences
    return _gap_end(wall, where)


def localize_shifted(wall: dt.datetime, where: ZoneInfo) -> dt.datetime:
    """The UTC instant of a naive wall-clock time, for cron schedules (as the reference
    server does it): a time that happens twice is its first occurrence; one that never
    happens is read with the offset from before the jump, so it runs as far after the
    jump as it reads into the gap (02:30 on a night that skips 02:00-03:00 runs at 03:30)."""
    return wall.replace(tzinfo=where, fold=0).astimezone(UTC)


def _gap_end(wall: dt.datetime, where: ZoneInfo) -> dt.datetime:
    """The instant the clocks jumped over `wall`, found by bisection between the two
    readings of it (post-gap offset: before the jump; pre-gap offset: after it)."""
    before = wall.replace(tzinfo=where, fold=1).astimezone(UTC)
    after = wall.replace(tzinfo=where, fold=0).astimezone(UTC)
    new_offset = after.astimezone(where).utcoffset()
    low, high = 0, (after - before) // dt.timedelta(microseconds=1)
    while low < high:
        middle = (low + high) // 2
        probe = before + dt.timedelta(microseconds=middle)
        if probe.astimezone(where).utcoffset() == new_offset:
            high = middle
        else:
            low = middle + 1
    return before + dt.timedelta(microseconds=low)


def last_change(where: ZoneInfo, at: dt.datetime) -> tuple[dt.datetime, dt.timedelta] | None:
    """The latest offset change at or before `at`, if there was one in the day before it:
    the instant (UTC) and how far the clocks moved (positive: forward, a gap; negative:
    back, a repeated hour)."""
    # Whole seconds: tzdata changes happen on them.
    high = int(at.timestamp() // 1)
    current = _offset(where, high)
    for _ in range(_CHANGE_SEARCH_HOURS):
        low = high - _HOUR_SECONDS
        if _offset(where, low) != current:
            break
        high = low
    else:
        return None
    while high - low > 1:  # offset(low) differs, offset(high) is the current one
        middle = (low + high) // 2
        if _offset(where, middle) == current:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, UTC), current - _offset(where, low)


def _offset(where: ZoneInfo, timestamp: int) -> dt.timedelta:
    return dt.datetime.fromtimestamp(timestamp, where).utcoffset() or dt.timedelta(0)
