"""RRule schedules: RFC 5545 recurrences (DTSTART, RRULE, RDATE, EXDATE), by dateutil."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulebase, rruleset, rrulestr

from baton.orchestration.schedules.base import (
    DEFAULT_ANCHOR,
    ScheduleError,
    bounded,
    require_aware,
)
from baton.orchestration.schedules.zones import DAY, UTC, localize, zone

TZID = re.compile(r"^DTSTART;TZID=([^:;]+)", re.IGNORECASE | re.MULTILINE)
_DTSTART = re.compile(r"^DTSTART(?:;TZID=([^:;]+))?:(\d{8}T\d{6})(Z?)$", re.IGNORECASE)
# Frequencies whose occurrences repeat every INTERVAL units of wall time (see _fast_forward).
_PERIODS = MappingProxyType(
    {
        "SECONDLY": dt.timedelta(seconds=1),
        "MINUTELY": dt.timedelta(minutes=1),
        "HOURLY": dt.timedelta(hours=1),
        "DAILY": DAY,
        "WEEKLY": dt.timedelta(weeks=1),
    }
)


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
        tzid = TZID.search(self.rrule)
        if tzid:
            try:
                zone(tzid.group(1))
            except ScheduleError:
                raise ScheduleError(
                    f"rrule: DTSTART has unknown time zone {tzid.group(1)!r}"
                ) from None
        rules = _ruleset(self.rrule, zone(self.timezone))
        try:
            first = next(iter(rules), None)
        except (ValueError, TypeError) as exc:
            raise ScheduleError(f"rrule: {exc}") from None
        object.__setattr__(self, "_floating", first is not None and first.tzinfo is None)

    def next_times(
        self, after: dt.datetime, until: dt.datetime | None = None, limit: int = 100
    ) -> list[dt.datetime]:
        """Run times >= `after` (and <= `until`), at most `limit`, in UTC, ascending."""
        require_aware(after, "after")
        where = zone(self.timezone)
        start = after - DAY  # a wall time in a DST gap fires later than it reads
        rules = _ruleset(_fast_forward(self.rrule, where, start), where)
        if self._floating:
            start = start.astimezone(where).replace(tzinfo=None)
        try:
            return bounded(_instants(rules, start, where), after, until, limit)
        except TypeError as exc:  # floating and zoned dates mixed in one set
            raise ScheduleError(f"rrule: {exc}") from None

    def to_wire(self) -> dict[str, object]:
        return {"rrule": self.rrule, "timezone": self.timezone}

    def describe(self) -> str:
        """The schedule in words, for the UI and the CLI (the rule itself)."""
        rules = [
            line.split(":", 1)[1]
            for line in self.rrule.splitlines()
            if line.upper().startswith("RRULE:")
        ]
        body = "; ".join(rules) or self.rrule.strip()
        tzid = TZID.search(self.rrule)
        return f"rrule {body} ({tzid.group(1) if tzid else self.timezone})"


def _ruleset(text: str, where: ZoneInfo) -> rruleset:
    default_start = DEFAULT_ANCHOR.replace(tzinfo=where)
    try:
        rules = rrulestr(text, forceset=True, dtstart=default_start, tzids=zone)
    except ScheduleError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise ScheduleError(f"rrule: {exc}") from None
    assert isinstance(rules, rruleset)  # forceset=True
    return rules


def _instants(rules: rrulebase, start: dt.datetime, where: ZoneInfo) -> Iterator[dt.datetime]:
    for occurrence in rules.xafter(start, inc=True):
        tzinfo = occurrence.tzinfo
        if tzinfo is None:
            yield localize(occurrence, where)
        elif isinstance(tzinfo, ZoneInfo):
            yield localize(occurrence.replace(tzinfo=None), tzinfo)
        else:  # UTC ("Z") or a fixed offset: already an instant
            yield occurrence.astimezone(UTC)


def _fast_forward(text: str, where: ZoneInfo, to: dt.datetime) -> str:
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
    start_zone = UTC if utc else (ZoneInfo(tzid) if tzid else where)
    wall = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S") if stamp else DEFAULT_ANCHOR
    period = unit * max(1, int(interval))
    periods = (to.astimezone(start_zone).replace(tzinfo=None) - DAY - wall) // period
    if periods <= 0:
        return text
    moved = f"{wall + periods * period:%Y%m%dT%H%M%S}"
    if utc:
        line = f"DTSTART:{moved}Z"
    elif tzid or not stamp:
        line = f"DTSTART;TZID={tzid or where.key}:{moved}"
    else:
        line = f"DTSTART:{moved}"
    return "\n".join([line, f"RRULE:{rules[0]}", *others])
