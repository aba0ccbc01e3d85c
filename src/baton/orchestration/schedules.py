"""Deployment schedules: parse the interval, cron and rrule shapes the client sends, list
their next run times, and decide how many runs the scheduler should create. Pure: no I/O.

Time-zone rules shared by all three shapes, so a schedule reads the same on any server:

- Wall-clock times are turned into instants by `_localize`. A wall time that happens twice
  (clocks go back) runs once, at its first occurrence. A wall time that never happens
  (clocks go forward) runs once, at the first instant after the gap: 02:30 on the night
  New York skips 02:00-03:00 runs at 03:00 local (Vixie cron runs skipped jobs right after
  the change, too). Each instant runs at most once: an hourly cron runs 23 times on the
  day clocks go forward and 24 (not 25) on the day they go back.
- `next_times(after, ...)` includes a run at exactly `after`, so a scheduler asking "from
  now" never drops the run that is due this instant.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulebase, rruleset, rrulestr

UTC = dt.UTC
DAY = dt.timedelta(days=1)
# Every run of an interval schedule without an anchor lines up with this wall time.
DEFAULT_ANCHOR = dt.datetime(2020, 1, 1)
# The Gregorian calendar repeats every 400 years: a cron that has not matched in that
# long never will ("0 0 31 2 *"), so the search stops instead of looping forever.
_CRON_SEARCH_MONTHS = 400 * 12


class ScheduleError(ValueError):
    """A schedule the server cannot accept; the message names the field and the problem."""


# --- time zones -----------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ScheduleError(f"timezone: unknown time zone {name!r}") from None


def _localize(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of a naive wall-clock time in `zone` (see the module docstring)."""
    early = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if early.astimezone(zone).replace(tzinfo=None) == wall:
        return early  # exists; fold=0 is the first of two occurrences
    return _gap_end(wall, zone)


def _gap_end(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The instant the clocks jumped over `wall`, found by bisection between the two
    readings of it (post-gap offset: before the jump; pre-gap offset: after it)."""
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    new_offset = after.astimezone(zone).utcoffset()
    low, high = 0, (after - before) // dt.timedelta(microseconds=1)
    while low < high:
        middle = (low + high) // 2
        probe = before + dt.timedelta(microseconds=middle)
        if probe.astimezone(zone).utcoffset() == new_offset:
            high = middle
        else:
            low = middle + 1
    return before + dt.timedelta(microseconds=low)


def _recent_jump(zone: ZoneInfo, at: dt.datetime) -> dt.timedelta:
    """How far the clocks jumped forward in the day before `at`. Wall times that far
    before `at` may sit in the gap and so fire at `at` itself; searches start there."""
    now_offset = at.astimezone(zone).utcoffset() or dt.timedelta(0)
    then_offset = (at - DAY).astimezone(zone).utcoffset() or dt.timedelta(0)
    return max(dt.timedelta(0), now_offset - then_offset)


def _require_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _bounded(
    instants: Iterator[dt.datetime], after: dt.datetime, until: dt.datetime | None, limit: int
) -> list[dt.datetime]:
    """The first `limit` distinct instants >= `after` and <= `until` from an ordered stream."""
    _require_aware(after, "after")
    if until is not None:
        _require_aware(until, "until")
    found: list[dt.datetime] = []
    if limit <= 0:
        return found
    for when in instants:
        if when < after or (found and when == found[-1]):
            continue
        if until is not None and when > until:
            break
        found.append(when)
        if len(found) >= limit:
            break
    return found


# --- interval -------------------------------------------------------------------------


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
        _zone(self.timezone)

    @property
    def _keeps_wall_clock(self) -> bool:
        return self.interval % DAY == dt.timedelta(0)

    def next_times(
        self, after: dt.datetime, until: dt.datetime | None = None, limit: int = 100
    ) -> list[dt.datetime]:
        """Run times >= `after` (and <= `until`), at most `limit`, in UTC, ascending."""
        _require_aware(after, "after")
        runs = self._wall_clock_runs(after) if self._keeps_wall_clock else self._exact_runs(after)
        return _bounded(runs, after, until, limit)

    def _exact_runs(self, after: dt.datetime) -> Iterator[dt.datetime]:
        anchor = self.anchor_date.astimezone(UTC)
        k = -((anchor - after) // self.interval)  # ceil((after - anchor) / interval)
        while True:
            yield anchor + k * self.interval
            k += 1

    def _wall_clock_runs(self, after: dt.datetime) -> Iterator[dt.datetime]:
        zone = _zone(self.timezone)
        anchor = self.anchor_date.astimezone(zone).replace(tzinfo=None)
        wall_after = after.astimezone(zone).replace(tzinfo=None)
        k = (wall_after - anchor) // self.interval - 1  # a step early: DST shifts are < a day
        while True:
            yield _localize(anchor + k * self.interval, zone)
            k += 1

    def to_wire(self) -> dict[str, object]:
        return {
            "interval": self.interval.total_seconds(),
            "anchor_date": self.anchor_date.isoformat(),
            "timezone": self.timezone,
        }

    def describe(self) -> str:
        seconds = self.interval.total_seconds()
        if not self._keeps_wall_clock:
            for unit, size in (("hour", 3600), ("minute", 60)):
                if seconds % size == 0:
                    return _every(int(seconds // size), unit)
            return _every(int(seconds) if seconds.is_integer() else seconds, "second")
        local = self.anchor_date.astimezone(_zone(self.timezone))
        return f"{_every(self.interval.days, 'day')} at {local:%H:%M} ({self.timezone})"


def _every(count: float, unit: str) -> str:
    number = f"{count:g}" if isinstance(count, float) else str(count)
    return f"every {unit}" if count == 1 else f"every {number} {unit}s"


# --- cron -----------------------------------------------------------------------------

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTH_NAMES = {name.upper(): n for n, name in enumerate(calendar.month_abbr) if name}
_DAY_NAMES = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


@dataclass(frozen=True)
class _CronField:
    name: str
    low: int
    high: int
    names: Mapping[str, int]


_FIELDS = (
    _CronField("minute", 0, 59, {}),
    _CronField("hour", 0, 23, {}),
    _CronField("day-of-month", 1, 31, {}),
    _CronField("month", 1, 12, _MONTH_NAMES),
    _CronField("day-of-week", 0, 7, _DAY_NAMES),  # 7 is Sunday too
)


@dataclass(frozen=True)
class _CronSpec:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day-of-month field is "*"
    any_weekday: bool  # day-of-week field is "*"


def _parse_cron(expression: str) -> _CronSpec:
    text = expression.strip()
    if text.startswith("@"):
        if text.lower() not in _MACROS:
            raise ScheduleError(f"cron: unknown macro {text!r}")
        text = _MACROS[text.lower()]
    parts = text.split()
    if len(parts) != len(_FIELDS):
        raise ScheduleError(
            f"cron: expected 5 fields (minute hour day-of-month month day-of-week), "
            f"got {len(parts)} in {expression!r}"
        )
    minutes, hours, days, months, weekdays = (
        _parse_field(part, spec) for part, spec in zip(parts, _FIELDS, strict=True)
    )
    return _CronSpec(
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days=frozenset(days),
        months=frozenset(months),
        weekdays=frozenset(day % 7 for day in weekdays),
        any_day=parts[2] == "*",
        any_weekday=parts[4] == "*",
    )


def _parse_field(text: str, spec: _CronField) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        values.update(_parse_item(item, spec))
    return values


def _parse_item(item: str, spec: _CronField) -> range:
    """One comma-separated item: `*`, `N`, `A-B`, each optionally followed by `/STEP`.
    `N/STEP` means N to the field's maximum, every STEP."""
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not (step_text.isascii() and step_text.isdigit()) or int(step_text) == 0:
            raise ScheduleError(f"cron: {spec.name} field {item!r} needs a step of at least 1")
        step = int(step_text)
    if base == "*":
        return range(spec.low, spec.high + 1, step)
    start_text, dash, end_text = base.partition("-")
    start = _parse_value(start_text, item, spec)
    end = _parse_value(end_text, item, spec) if dash else (spec.high if slash else start)
    if start > end:
        raise ScheduleError(f"cron: {spec.name} field {item!r} has a range that runs backwards")
    return range(start, end + 1, step)


def _parse_value(text: str, item: str, spec: _CronField) -> int:
    if text.isascii() and text.isdigit():
        value = int(text)
    elif text.upper() in spec.names:
        return spec.names[text.upper()]
    else:
        raise ScheduleError(f"cron: {spec.name} field {item!r} is not a number or name")
    if not spec.low <= value <= spec.high:
        raise ScheduleError(
            f"cron: {spec.name} field {text!r} is out of range {spec.low}-{spec.high}"
        )
    return value


@dataclass(frozen=True)
class CronSchedule:
    """A five-field cron expression evaluated on the wall clock of `timezone`.

    With `day_or` (classic cron), when neither day-of-month nor day-of-week is `*` a day
    matches if either does; without it, both must. A field counts as unrestricted only
    when it is exactly `*`."""

    kind: ClassVar[str] = "CronSchedule"

    cron: str
    timezone: str = "UTC"
    day_or: bool = True
    _spec: _CronSpec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_spec", _parse_cron(self.cron))
        _zone(self.timezone)

    def next_times(
        self, after: dt.datetime, until: dt.datetime | None = None, limit: int = 100
    ) -> list[dt.datetime]:
        """Run times >= `after` (and <= `until`), at most `limit`, in UTC, ascending."""
        _require_aware(after, "after")
        zone = _zone(self.timezone)
        start = (after.astimezone(zone) - _recent_jump(zone, after)).replace(tzinfo=None)
        runs = (_localize(wall, zone) for wall in self._walls(start))
        return _bounded(runs, after, until, limit)

    def _walls(self, start: dt.datetime) -> Iterator[dt.datetime]:
        """Matching wall times >= `start`, in order, jumping month by month and day by day
        so a sparse expression costs as little as a dense one."""
        if start.second or start.microsecond:
            start = start.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        spec = self._spec
        year, month = start.year, start.month
        idle_months = 0
        while idle_months < _CRON_SEARCH_MONTHS and year < dt.MAXYEAR:
            idle_months += 1
            if month in spec.months:
                for day in self._days(year, month):
                    if (year, month, day) < (start.year, start.month, start.day):
                        continue
                    for hour in spec.hours:
                        for minute in spec.minutes:
                            wall = dt.datetime(year, month, day, hour, minute)
                            if wall >= start:
                                idle_months = 0
                                yield wall
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def _days(self, year: int, month: int) -> Iterator[int]:
        spec = self._spec
        first_weekday, length = calendar.monthrange(year, month)  # Monday = 0
        for day in range(1, length + 1):
            by_date = day in spec.days
            by_weekday = (first_weekday + day) % 7 in spec.weekdays  # Sunday = 0
            if spec.any_day:
                matches = by_weekday
            elif spec.any_weekday:
                matches = by_date
            elif self.day_or:
                matches = by_date or by_weekday
            else:
                matches = by_date and by_weekday
            if matches:
                yield day

    def to_wire(self) -> dict[str, object]:
        return {"cron": self.cron, "timezone": self.timezone, "day_or": self.day_or}

    def describe(self) -> str:
        parts = self.cron.split()
        if len(parts) != 5:  # a macro
            parts = _MACROS[self.cron.strip().lower()].split()
        minute, hour, day, month, weekday = parts
        if month != "*" or (day != "*" and weekday != "*"):
            return f"cron {self.cron} ({self.timezone})"
        if (hour, day, weekday) == ("*", "*", "*"):
            if minute == "*":
                return "every minute"
            if minute.startswith("*/") and minute[2:].isdigit():
                return _every(int(minute[2:]), "minute")
            if minute.isdigit():
                return "every hour" if minute == "0" else f"every hour at minute {minute}"
        if not (minute.isdigit() and hour.isdigit()):
            return f"cron {self.cron} ({self.timezone})"
        clock = f"{int(hour):02d}:{int(minute):02d}"
        if day == "*" and weekday == "*":
            return f"every day at {clock} ({self.timezone})"
        if weekday == "*":
            return f"at {clock} on day {day} of the month ({self.timezone})"
        return f"at {clock} on {_weekday_words(self._spec.weekdays)} ({self.timezone})"


def _weekday_words(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{_WEEKDAYS[ordered[0]]} through {_WEEKDAYS[ordered[-1]]}"
    names = [_WEEKDAYS[day] for day in ordered]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# --- rrule ----------------------------------------------------------------------------

_TZID = re.compile(r"^DTSTART;TZID=([^:;]+)", re.IGNORECASE | re.MULTILINE)
_DTSTART = re.compile(r"^DTSTART(?:;TZID=([^:;]+))?:(\d{8}T\d{6})(Z?)$", re.IGNORECASE)
# Frequencies whose occurrences repeat every INTERVAL units of wall time (see _fast_forward).
_PERIODS = {
    "SECONDLY": dt.timedelta(seconds=1),
    "MINUTELY": dt.timedelta(minutes=1),
    "HOURLY": dt.timedelta(hours=1),
    "DAILY": DAY,
    "WEEKLY": dt.timedelta(weeks=1),
}


@dataclass(frozen=True)
class RRuleSchedule:
    """An RFC 5545 recurrence (DTSTART, RRULE, RDATE, EXDATE lines). Occurrences are wall
    times in the DTSTART's TZID, or in `timezone` when DTSTART is floating or missing; a
    missing DTSTART means midnight on 2020-01-01 there."""

    kind: ClassVar[str] = "RRuleSchedule"

    rrule: str
    timezone: str = "UTC"
    _floating: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tzid = _TZID.search(self.rrule)
        if tzid:
            try:
                _zone(tzid.group(1))
            except ScheduleError:
                raise ScheduleError(
                    f"rrule: DTSTART has unknown time zone {tzid.group(1)!r}"
                ) from None
        rules = _ruleset(self.rrule, _zone(self.timezone))
        try:
            first = next(iter(rules), None)
        except (ValueError, TypeError) as exc:
            raise ScheduleError(f"rrule: {exc}") from None
        object.__setattr__(self, "_floating", first is not None and first.tzinfo is None)

    def next_times(
        self, after: dt.datetime, until: dt.datetime | None = None, limit: int = 100
    ) -> list[dt.datetime]:
        """Run times >= `after` (and <= `until`), at most `limit`, in UTC, ascending."""
        _require_aware(after, "after")
        zone = _zone(self.timezone)
        start = after - DAY  # a wall time in a DST gap fires later than it reads
        rules = _ruleset(_fast_forward(self.rrule, zone, start), zone)
        if self._floating:
            start = start.astimezone(zone).replace(tzinfo=None)
        try:
            return _bounded(_rrule_instants(rules, start, zone), after, until, limit)
        except TypeError as exc:  # floating and zoned dates mixed in one set
            raise ScheduleError(f"rrule: {exc}") from None

    def to_wire(self) -> dict[str, object]:
        return {"rrule": self.rrule, "timezone": self.timezone}

    def describe(self) -> str:
        rules = [
            line.split(":", 1)[1]
            for line in self.rrule.splitlines()
            if line.upper().startswith("RRULE:")
        ]
        body = "; ".join(rules) or self.rrule.strip()
        tzid = _TZID.search(self.rrule)
        return f"rrule {body} ({tzid.group(1) if tzid else self.timezone})"


def _ruleset(text: str, zone: ZoneInfo) -> rruleset:
    default_start = DEFAULT_ANCHOR.replace(tzinfo=zone)
    try:
        rules = rrulestr(text, forceset=True, dtstart=default_start, tzids=_zone)
    except ScheduleError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise ScheduleError(f"rrule: {exc}") from None
    assert isinstance(rules, rruleset)  # forceset=True
    return rules


def _rrule_instants(rules: rrulebase, start: dt.datetime, zone: ZoneInfo) -> Iterator[dt.datetime]:
    for occurrence in rules.xafter(start, inc=True):
        tzinfo = occurrence.tzinfo
        if tzinfo is None:
            yield _localize(occurrence, zone)
        elif isinstance(tzinfo, ZoneInfo):
            yield _localize(occurrence.replace(tzinfo=None), tzinfo)
        else:  # UTC ("Z") or a fixed offset: already an instant
            yield occurrence.astimezone(UTC)


def _fast_forward(text: str, zone: ZoneInfo, to: dt.datetime) -> str:
    """The same recurrence with DTSTART moved forward by whole periods to before `to`.

    dateutil walks every occurrence from DTSTART, so a minutely rule that started in 2020
    would cost millions of steps per call. A single RRULE without COUNT or BYSETPOS repeats
    every INTERVAL x FREQ of wall time, so starting a whole number of periods later yields
    the same occurrences from there on. Anything else is returned unchanged."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    rules = [line[6:] for line in lines if line.upper().startswith("RRULE:")]
    starts = [_DTSTART.match(line) for line in lines if line.upper().startswith("DTSTART")]
    others = [line for line in lines if not line.upper().startswith(("RRULE:", "DTSTART"))]
    if (
        len(rules) != 1
        or len(starts) > 1
        or any(not line.upper().startswith(("RDATE", "EXDATE")) for line in others)
    ):
        return text
    params = dict(part.partition("=")[::2] for part in rules[0].upper().split(";"))
    interval = params.get("INTERVAL", "1")
    unit = _PERIODS.get(params.get("FREQ", ""))
    if unit is None or "COUNT" in params or "BYSETPOS" in params or not interval.isdigit():
        return text
    if starts and starts[0] is None:
        return text  # a DTSTART form we do not rewrite (e.g. a bare date)
    tzid, stamp, utc = starts[0].groups() if starts and starts[0] else (None, None, "")
    start_zone = UTC if utc else (ZoneInfo(tzid) if tzid else zone)
    wall = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S") if stamp else DEFAULT_ANCHOR
    period = unit * max(1, int(interval))
    periods = (to.astimezone(start_zone).replace(tzinfo=None) - DAY - wall) // period
    if periods <= 0:
        return text
    moved = f"{wall + periods * period:%Y%m%dT%H%M%S}"
    if utc:
        line = f"DTSTART:{moved}Z"
    elif tzid or not stamp:
        line = f"DTSTART;TZID={tzid or zone.key}:{moved}"
    else:
        line = f"DTSTART:{moved}"
    return "\n".join([line, f"RRULE:{rules[0]}", *others])


Schedule = IntervalSchedule | CronSchedule | RRuleSchedule

# --- parsing the wire shapes ----------------------------------------------------------

_SHAPES: dict[str, frozenset[str]] = {
    "interval": frozenset({"interval", "anchor_date", "timezone"}),
    "cron": frozenset({"cron", "timezone", "day_or"}),
    "rrule": frozenset({"rrule", "timezone"}),
}


def parse_schedule(raw: Mapping[str, object]) -> Schedule:
    """Validate a deployment schedule's `schedule` object as sent by the client."""
    if not isinstance(raw, Mapping):
        raise ScheduleError("schedule: expected an object with 'interval', 'cron' or 'rrule'")
    shapes = [key for key in _SHAPES if key in raw]
    if len(shapes) != 1:
        raise ScheduleError(
            "schedule: expected exactly one of 'interval', 'cron' or 'rrule', "
            f"got {sorted(str(key) for key in raw)}"
        )
    shape = shapes[0]
    unknown = sorted(str(key) for key in raw if key not in _SHAPES[shape])
    if unknown:
        allowed = ", ".join(sorted(_SHAPES[shape]))
        raise ScheduleError(f"{shape}: unexpected field(s) {unknown}; accepted: {allowed}")
    timezone = _timezone_name(raw.get("timezone"))
    if shape == "interval":
        return _parse_interval(raw, timezone)
    if shape == "cron":
        return _parse_cron_shape(raw, timezone)
    return _parse_rrule_shape(raw, timezone)


def _timezone_name(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScheduleError("timezone: must be a time zone name such as 'America/New_York'")
    _zone(value)
    return value


def _parse_interval(raw: Mapping[str, object], timezone: str | None) -> IntervalSchedule:
    seconds = raw["interval"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ScheduleError("interval: must be a number of seconds")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ScheduleError("interval: must be greater than 0")
    try:
        interval = dt.timedelta(seconds=seconds)
    except OverflowError:
        raise ScheduleError("interval: is too large") from None
    zone_name = timezone or "UTC"
    zone = _zone(zone_name)
    anchor = _anchor(raw.get("anchor_date"))
    if anchor.tzinfo is None:
        anchor = _localize(anchor, zone)
    return IntervalSchedule(interval, anchor.astimezone(zone), zone_name)


def _anchor(value: object) -> dt.datetime:
    if value is None:
        return DEFAULT_ANCHOR
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ScheduleError(f"interval: anchor_date {value!r} is not an ISO 8601 date-time")


def _parse_cron_shape(raw: Mapping[str, object], timezone: str | None) -> CronSchedule:
    expression, day_or = raw["cron"], raw.get("day_or", True)
    if not isinstance(expression, str):
        raise ScheduleError("cron: must be a string such as '0 9 * * 1-5'")
    if not isinstance(day_or, bool):
        raise ScheduleError("day_or: must be true or false")
    return CronSchedule(expression.strip(), timezone or "UTC", day_or)


def _parse_rrule_shape(raw: Mapping[str, object], timezone: str | None) -> RRuleSchedule:
    text = raw["rrule"]
    if not isinstance(text, str) or not text.strip():
        raise ScheduleError("rrule: must be a non-empty RFC 5545 recurrence string")
    tzid = _TZID.search(text)
    return RRuleSchedule(text.strip(), timezone or (tzid.group(1) if tzid else "UTC"))


# --- the scheduler's horizon ----------------------------------------------------------


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
    wanted: list[dt.datetime] = []
    for when in schedule.next_times(now, until=now + max_time, limit=cap):
        if len(wanted) >= min_runs and when > now + min_time:
            break
        wanted.append(when)
    return wanted


def idempotency_key(deployment_id: UUID | str, schedule_id: UUID | str, when: dt.datetime) -> str:
    """The key that makes creating the same scheduled run twice a no-op."""
    _require_aware(when, "when")
    return f"scheduled {deployment_id} {schedule_id} {when.astimezone(UTC)}"
