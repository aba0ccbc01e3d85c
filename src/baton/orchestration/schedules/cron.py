"""Cron schedules: the expressions the Prefect 3 client accepts, run as its server runs them.

The client validates with croniter 6.0 (`croniter.is_valid`: five fields, or six with
seconds last, or seven with seconds and a year; names, steps, `L`, `1#2`, `L5`, `?`,
`@daily` and the other macros) and refuses the fields `R` and `H`. Baton uses the same
croniter to validate and to list the matching wall times; `CronSchedule.next_times`
turns them into instants with the reference's DST rules."""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import takewhile
from typing import ClassVar, Literal
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, CroniterError, croniter
from croniter.croniter import hash_expression_re

from baton.orchestration.schedules.base import ScheduleError, require_aware
from baton.orchestration.schedules.words import (
    every,
    listing,
    nth_weekday_words,
    weekday_words,
)
from baton.orchestration.schedules.zones import last_change, localize_shifted, zone

_SECOND = dt.timedelta(seconds=1)
# croniter's echoes of the expression, at the start or the end of most of its messages.
_ECHO = re.compile(r"^\[[^\]]*\] is not acceptable[,.]?\s*|\s+Cron: .*$")

# Each field's name and range, for messages, in croniter's order (seconds come sixth).
_FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12"),
    ("day-of-week", "0-7"),
    ("second", "0-59"),
    ("year", "1970-2099"),
)

Field = tuple[int | Literal["*", "l"], ...]
_ANY: Field = ("*",)


def check_cron(text: str) -> None:
    """Refuse, with a ScheduleError naming `cron`, what the Prefect 3.9 client refuses."""
    try:
        croniter.expand(text)
    except CroniterError as exc:
        raise ScheduleError(f"cron: {_reason(text, exc)}") from None
    # croniter's random ("R") and hashed ("H") fields: the client refuses them bare.
    if any(part.casefold() in ("r", "h") for part in text.split()):
        raise ScheduleError(f"cron: random (R) and hashed (H) fields are not supported: {text!r}")


def _reason(text: str, exc: CroniterError) -> str:
    """Why croniter refused `text`, naming the field at fault when one is on its own."""
    parts = text.split()
    if len(parts) == 1 and parts[0].startswith("@"):
        return f"unknown macro {text!r}"
    if len(parts) not in (5, 6, 7):
        return (
            "expected 5 fields (minute hour day-of-month month day-of-week), 6 with seconds "
            f"or 7 with seconds and year; got {len(parts)} in {text!r}"
        )
    if any(_is_hashed(part) and part[0] in "hH" for part in parts):
        return f"hashed fields (H) are not supported: {text!r}"
    for index, part in enumerate(parts):
        # The field alone, the others "*": croniter's verdict on it by itself.
        alone = " ".join(part if other == index else "*" for other in range(len(parts)))
        try:
            croniter.expand(alone)
        except CroniterError as field_exc:
            name, span = _FIELDS[index]
            detail = _detail(field_exc).replace("out of range", f"out of range {span}")
            return f"{name} field {part!r} is not valid{detail} in {text!r}"
    return f"{text!r} is not a valid cron expression{_detail(exc)}"


def _detail(exc: CroniterError) -> str:
    detail = _ECHO.sub("", str(exc)).rstrip(". ")
    return f" ({detail})" if detail else ""


def _is_hashed(part: str) -> bool:
    return hash_expression_re.match(part.lower()) is not None


def _pinned(text: str) -> tuple[str, bytes | None]:
    """The expression to hand croniter, and its hash key. croniter draws a new value for a
    random field (`R/5`, `R(0-29)`, which the client accepts) each time it reads the
    expression, which would move the runs each time the scheduler looks; read as a hashed
    field keyed by the expression, it picks a value in the same range once and for all."""
    parts = text.split()
    if not any(_is_hashed(part) for part in parts):
        return text, None
    pinned = ["h" + part[1:] if _is_hashed(part) else part for part in parts]
    return " ".join(pinned), text.encode()


@dataclass(frozen=True)
class CronSchedule:
    """A cron expression evaluated on the wall clock of `timezone`.

    With `day_or` (classic cron), when neither day-of-month nor day-of-week is `*` a day
    matches if either does; without it, both must."""

    kind: ClassVar[str] = "CronSchedule"

    cron: str
    timezone: str = "UTC"
    day_or: bool = True
    _expression: str = field(init=False, repr=False, compare=False)
    _hash_id: bytes | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_cron(self.cron)
        zone(self.timezone)
        expression, hash_id = _pinned(self.cron)
        object.__setattr__(self, "_expression", expression)
        object.__setattr__(self, "_hash_id", hash_id)

    def next_times(
        self, after: dt.datetime, until: dt.datetime | None = None, limit: int = 100
    ) -> list[dt.datetime]:
        """Run times >= `after` (and <= `until`), at most `limit`, in UTC, ascending.

        The same instants as the reference server's `CronSchedule.get_dates`: croniter
        lists the matching wall times and each becomes an instant by `localize_shifted`
        (a repeated wall time runs at its first occurrence; one skipped by a jump forward
        runs as long after the jump as it reads into the gap), and an instant runs once.
        Like the reference, instants are taken in croniter's order (the first `limit`,
        stopping at the first past `until`), which can differ from time order just after a
        jump forward that is not a whole hour (Lord Howe's half hour)."""
        require_aware(after, "after")
        if until is not None:
            require_aware(until, "until")
        if limit <= 0:
            return []
        found: set[dt.datetime] = set()
        for when in self._candidates(after):
            if until is not None and when > until:
                break
            if when >= after:
                found.add(when)
                if len(found) >= limit:
                    break
        return sorted(found)

    def _candidates(self, after: dt.datetime) -> Iterator[dt.datetime]:
        where = zone(self.timezone)
        start = after.astimezone(where)
        wall = start.replace(tzinfo=None)
        # croniter lists times strictly after its start: a second early keeps one at `after`.
        seek = wall if wall.microsecond else wall - _SECOND
        change = last_change(where, start)
        if change is None:
            return self._instants(seek, where)
        moment, jump = change
        since = after - moment
        changed_wall = moment.astimezone(where).replace(tzinfo=None)
        if jump < dt.timedelta(0) and since < -jump:
            # Inside a repeated hour its wall times stand for their first occurrence, before
            # `after`: start past them rather than list each (a secondly cron has 3600).
            seek = changed_wall - jump - _SECOND
        instants = self._instants(seek, where)
        if jump > dt.timedelta(0) and since < jump:
            # Less than a gap's length after a jump forward: the wall times in the gap run
            # up to that long after the jump, so they may still be to come.
            skipped = takewhile(lambda wall: wall < changed_wall, self._walls(seek - jump))
            shifted = (localize_shifted(wall, where) for wall in skipped)
            instants = heapq.merge(shifted, instants)
        return instants

    def _instants(self, seek: dt.datetime, where: ZoneInfo) -> Iterator[dt.datetime]:
        for wall in self._walls(seek):
            try:
                yield localize_shifted(wall, where)
            except OverflowError:  # the last hours of 9999, west of Greenwich
                return

    def _walls(self, seek: dt.datetime) -> Iterator[dt.datetime]:
        """Matching wall times after `seek`, until croniter finds none in the 50 years it
        searches ("0 0 31 2 *" never matches) or the calendar ends."""
        times = croniter(self._expression, seek, day_or=self.day_or, hash_id=self._hash_id)
        while True:
            try:
                wall = times.get_next(dt.datetime)
            except (CroniterBadDateError, OverflowError):
                return
            yield wall

    def to_wire(self) -> dict[str, object]:
        return {"cron": self.cron, "timezone": self.timezone, "day_or": self.day_or}

    def describe(self) -> str:
        """The schedule in words, for the UI and the CLI; `cron <expression> (<zone>)` when
        it does not fit a phrase."""
        expanded, nth = croniter.expand(self._expression, hash_id=self._hash_id)
        fields = [tuple(values) for values in expanded]
        if len(fields) == 5:
            minute, hour, day, month, weekday = fields
            if month == _ANY and hour == day == weekday == _ANY:
                hourly = _minute_words(minute)  # the same in every zone
                if hourly:
                    return hourly
            elif month == _ANY and (day == _ANY or weekday == _ANY):
                daily = _clock_words(minute, hour, day, weekday, nth)
                if daily:
                    return f"{daily} ({self.timezone})"
        return f"cron {self.cron} ({self.timezone})"


def _clock_words(
    minute: Field, hour: Field, day: Field, weekday: Field, nth: dict[int, set[int | Literal["l"]]]
) -> str | None:
    if len(minute) != 1 or len(hour) != 1 or minute == _ANY or hour == _ANY:
        return None
    clock = f"{hour[0]:02d}:{minute[0]:02d}"
    if day == weekday == _ANY:
        return f"every day at {clock}"
    when = _day_words(day) if weekday == _ANY else _weekday_phrase(weekday, nth)
    return None if when is None else f"at {clock} on {when}"


def _minute_words(minute: Field) -> str | None:
    if minute == _ANY:
        return "every minute"
    if len(minute) == 1:
        return "every hour" if minute[0] == 0 else f"every hour at minute {minute[0]}"
    step = minute[1] if isinstance(minute[1], int) else 0
    if step > 1 and 60 % step == 0 and minute == tuple(range(0, 60, step)):
        return every(step, "minute")
    return None


def _day_words(day: Field) -> str | None:
    if day == ("l",):
        return "the last day of the month"
    if "l" in day:
        return None
    names = [str(value) for value in day]
    return f"day{'s' if len(names) > 1 else ''} {listing(names)} of the month"


def _weekday_phrase(weekday: Field, nth: dict[int, set[int | Literal["l"]]]) -> str | None:
    days = [value for value in weekday if isinstance(value, int)]
    if not nth:
        return weekday_words(days)
    if len(days) == 1 and days[0] in nth and len(nth[days[0]]) == 1:
        return nth_weekday_words(days[0], next(iter(nth[days[0]])))
    return None
