"""Parsing a deployment schedule's `schedule` object, in the shapes the client sends."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from types import MappingProxyType

from baton.orchestration.schedules.base import DEFAULT_ANCHOR, ScheduleError
from baton.orchestration.schedules.cron import CronSchedule, check_cron
from baton.orchestration.schedules.interval import IntervalSchedule
from baton.orchestration.schedules.rrule import TZID, RRuleSchedule
from baton.orchestration.schedules.zones import localize, zone

Schedule = IntervalSchedule | CronSchedule | RRuleSchedule

_SHAPES = MappingProxyType(
    {
        "interval": frozenset({"interval", "anchor_date", "timezone"}),
        "cron": frozenset({"cron", "timezone", "day_or"}),
        "rrule": frozenset({"rrule", "timezone"}),
    }
)


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
        return _parse_cron(raw, timezone)
    return _parse_rrule(raw, timezone)


def _timezone_name(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScheduleError("timezone: must be a time zone name such as 'America/New_York'")
    zone(value)
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
    where = zone(zone_name)
    anchor = _anchor(raw.get("anchor_date"))
    if anchor.tzinfo is None:
        anchor = localize(anchor, where)
    return IntervalSchedule(interval, anchor.astimezone(where), zone_name)


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


def _parse_cron(raw: Mapping[str, object], timezone: str | None) -> CronSchedule:
    expression, day_or = raw["cron"], raw.get("day_or", True)
    if not isinstance(expression, str):
        raise ScheduleError("cron: must be a string such as '0 9 * * 1-5'")
    if not isinstance(day_or, bool):
        raise ScheduleError("day_or: must be true or false")
    if expression != expression.strip():
        # The client checks the text as sent: " @daily" is refused, " 0 9 * * *" is not.
        check_cron(expression)
    return CronSchedule(expression.strip(), timezone or "UTC", day_or)


def _parse_rrule(raw: Mapping[str, object], timezone: str | None) -> RRuleSchedule:
    text = raw["rrule"]
    if not isinstance(text, str) or not text.strip():
        raise ScheduleError("rrule: must be a non-empty RFC 5545 recurrence string")
    tzid = TZID.search(text)
    return RRuleSchedule(text.strip(), timezone or (tzid.group(1) if tzid else "UTC"))
