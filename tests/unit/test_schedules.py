"""Deployment schedules: the three wire shapes, their run times, and the scheduler's horizon.

Expected instants are worked out by hand (tests/unit/test_cron_corpus.py checks cron
against the reference itself). New York 2026: clocks spring forward at 02:00 EST on 8 March
(07:00 UTC) and fall back at 02:00 EDT on 1 November (06:00 UTC)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid

import pytest

from baton.orchestration.schedules import (
    CronSchedule,
    IntervalSchedule,
    RRuleSchedule,
    Schedule,
    ScheduleError,
    idempotency_key,
    parse_schedule,
    runs_to_schedule,
)

NY = "America/New_York"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


def cron(expression: str, timezone: str | None = None, day_or: bool = True) -> Schedule:
    return parse_schedule({"cron": expression, "timezone": timezone, "day_or": day_or})


def interval(seconds: float, anchor: str | None = None, timezone: str | None = None) -> Schedule:
    return parse_schedule({"interval": seconds, "anchor_date": anchor, "timezone": timezone})


def rrule(text: str, timezone: str | None = None) -> Schedule:
    return parse_schedule({"rrule": text, "timezone": timezone})


# --- cron field syntax ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("*/15 * * * *", [(0, 0), (0, 15), (0, 30), (0, 45), (1, 0)]),
        ("1-10/3 * * * *", [(0, 1), (0, 4), (0, 7), (0, 10), (1, 1)]),
        ("5/20 * * * *", [(0, 5), (0, 25), (0, 45), (1, 5), (1, 25)]),
        ("0 */6 * * *", [(0, 0), (6, 0), (12, 0), (18, 0), (24, 0)]),
        ("0,30 9,17 * * *", [(9, 0), (9, 30), (17, 0), (17, 30), (33, 0)]),
        ("7 3-4 * * *", [(3, 7), (4, 7), (27, 7), (28, 7), (51, 7)]),
    ],
)
def test_cron_minute_and_hour_syntax(expression: str, expected: list[tuple[int, int]]) -> None:
    start = utc(2026, 1, 1)
    wanted = [start + dt.timedelta(hours=h, minutes=m) for h, m in expected]
    assert cron(expression).next_times(start, None, 5) == wanted


def test_cron_day_of_month_range_with_step() -> None:
    runs = cron("0 0 1-31/10 * *").next_times(utc(2026, 1, 1), None, 5)
    days = [(1, 1), (1, 11), (1, 21), (1, 31), (2, 1)]
    assert runs == [utc(2026, month, day) for month, day in days]


def test_cron_month_and_weekday_names_are_case_insensitive() -> None:
    schedule = cron("0 12 * JAN,jul mon-FRI")
    # 1 Jan 2026 is a Thursday; 1 Jul 2026 is a Wednesday.
    assert schedule.next_times(utc(2026, 1, 1), None, 3) == [
        utc(2026, 1, 1, 12),
        utc(2026, 1, 2, 12),
        utc(2026, 1, 5, 12),
    ]
    assert schedule.next_times(utc(2026, 2, 1), None, 3) == [
        utc(2026, 7, 1, 12),
        utc(2026, 7, 2, 12),
        utc(2026, 7, 3, 12),
    ]


@pytest.mark.parametrize("sunday", ["0", "7", "SUN", "sun"])
def test_cron_sunday_is_0_7_or_sun(sunday: str) -> None:
    runs = cron(f"0 0 * * {sunday}").next_times(utc(2026, 2, 20), None, 2)
    assert runs == [utc(2026, 2, 22), utc(2026, 3, 1)]


def test_cron_weekday_range_may_end_on_7() -> None:
    runs = cron("0 0 * * 5-7").next_times(utc(2026, 2, 1, 0, 1), None, 4)
    assert runs == [utc(2026, 2, 6), utc(2026, 2, 7), utc(2026, 2, 8), utc(2026, 2, 13)]


def test_cron_a_range_may_wrap_around() -> None:
    # Friday through Monday; 5 Feb 2026 is a Thursday.
    runs = cron("0 0 * * 5-1").next_times(utc(2026, 2, 5), None, 5)
    assert runs == [utc(2026, 2, day) for day in (6, 7, 8, 9, 13)]


def test_cron_last_day_of_the_month() -> None:
    runs = cron("0 12 L * *").next_times(utc(2026, 1, 1), None, 3)
    assert runs == [utc(2026, 1, 31, 12), utc(2026, 2, 28, 12), utc(2026, 3, 31, 12)]


def test_cron_nth_and_last_weekday_of_the_month() -> None:
    # Second Mondays of 2026: 12 Jan, 9 Feb, 9 Mar. Last Fridays: 30 Jan, 27 Feb, 27 Mar.
    assert cron("0 9 * * 1#2").next_times(utc(2026, 1, 1), None, 3) == [
        utc(2026, 1, 12, 9),
        utc(2026, 2, 9, 9),
        utc(2026, 3, 9, 9),
    ]
    assert cron("0 0 * * L5").next_times(utc(2026, 1, 1), None, 3) == [
        utc(2026, 1, 30),
        utc(2026, 2, 27),
        utc(2026, 3, 27),
    ]
    # Fifth Mondays only exist in some months.
    assert cron("0 0 * * 1#5").next_times(utc(2026, 1, 1), None, 3) == [
        utc(2026, 3, 30),
        utc(2026, 6, 29),
        utc(2026, 8, 31),
    ]


def test_cron_question_mark_is_any_day() -> None:
    assert cron("0 0 ? * *").next_times(utc(2026, 1, 1), None, 2) == [
        utc(2026, 1, 1),
        utc(2026, 1, 2),
    ]


def test_cron_sixth_field_is_seconds_and_seventh_the_year() -> None:
    assert cron("0 0 * * * 30").next_times(utc(2026, 1, 1), None, 2) == [
        utc(2026, 1, 1, 0, 0, 30),
        utc(2026, 1, 2, 0, 0, 30),
    ]
    assert cron("0 12 1 1 * 0 2027").next_times(utc(2026, 1, 1), None, 3) == [utc(2027, 1, 1, 12)]


def test_cron_a_range_from_a_value_to_itself_is_the_whole_field() -> None:
    # croniter's reading (so the reference's too): "5-5" is every minute, not minute 5.
    assert cron("5-5 * * * *").next_times(utc(2026, 1, 1), None, 2) == [
        utc(2026, 1, 1),
        utc(2026, 1, 1, 0, 1),
    ]


def test_cron_random_fields_pick_the_same_values_every_time() -> None:
    # The client accepts R/5 (croniter draws a random start); Baton hashes it instead, so
    # the runs do not move each time the scheduler looks.
    first = cron("R/5 * * * *").next_times(utc(2026, 1, 1), None, 24)
    again = CronSchedule("R/5 * * * *").next_times(utc(2026, 1, 1), None, 24)
    assert first == again
    assert first[0] < utc(2026, 1, 1, 0, 5)
    assert [b - a for a, b in itertools.pairwise(first)] == [dt.timedelta(minutes=5)] * 23
    [hourly] = cron("r(0-29) 0 * * *").next_times(utc(2026, 1, 1), None, 1)
    assert hourly.hour == 0
    assert hourly.minute < 30


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("@hourly", utc(2026, 2, 1, 1)),
        ("@daily", utc(2026, 2, 2)),
        ("@midnight", utc(2026, 2, 2)),
        ("@weekly", utc(2026, 2, 8)),  # Sundays; 1 Feb 2026 is one
        ("@monthly", utc(2026, 3, 1)),
        ("@yearly", utc(2027, 1, 1)),
        ("@annually", utc(2027, 1, 1)),
        ("@DAILY", utc(2026, 2, 2)),
    ],
)
def test_cron_macros(macro: str, expected: dt.datetime) -> None:
    assert cron(macro).next_times(utc(2026, 2, 1, 0, 0, 1), None, 1) == [expected]


def test_cron_day_or_matches_either_day_field() -> None:
    # The 12th, or any Monday.
    runs = cron("0 0 12 * 1").next_times(utc(2026, 2, 1), None, 6)
    assert runs == [
        utc(2026, 2, 2),
        utc(2026, 2, 9),
        utc(2026, 2, 12),
        utc(2026, 2, 16),
        utc(2026, 2, 23),
        utc(2026, 3, 2),
    ]


def test_cron_day_and_needs_both_day_fields() -> None:
    # Mondays that fall on the 12th.
    runs = cron("0 0 12 * 1", day_or=False).next_times(utc(2026, 2, 1), None, 2)
    assert runs == [utc(2026, 10, 12), utc(2027, 4, 12)]


@pytest.mark.parametrize("day_or", [True, False])
def test_cron_a_star_day_field_leaves_the_other_in_charge(day_or: bool) -> None:
    assert cron("0 0 * * 1", day_or=day_or).next_times(utc(2026, 2, 1), None, 2) == [
        utc(2026, 2, 2),
        utc(2026, 2, 9),
    ]
    assert cron("0 0 12 * *", day_or=day_or).next_times(utc(2026, 2, 1), None, 2) == [
        utc(2026, 2, 12),
        utc(2026, 3, 12),
    ]


def test_cron_runs_in_its_time_zone() -> None:
    runs = cron("0 9 * * 1-5", NY).next_times(utc(2026, 1, 1), None, 2)
    assert runs == [utc(2026, 1, 1, 14), utc(2026, 1, 2, 14)]


# --- cron: sparse and impossible expressions --------------------------------------------


def test_cron_leap_day_finds_a_hundred_leap_days() -> None:
    runs = cron("0 0 29 2 *").next_times(utc(2026, 1, 1), None, 100)
    assert runs[:3] == [utc(2028, 2, 29), utc(2032, 2, 29), utc(2036, 2, 29)]
    assert utc(2096, 2, 29) in runs
    assert utc(2104, 2, 29) in runs  # 2100 is not a leap year
    assert len(runs) == 100
    assert runs[-1] == utc(2436, 2, 29)


@pytest.mark.parametrize(
    "expression",
    [
        "0 0 31 2 *",
        "0 0 30 2 *",
        "0 0 31 4,6,9,11 *",
        # croniter, and so the reference, gives up on the day-of-month half of the "or" and
        # with it on the Mondays of February.
        "0 0 31 2 1",
        # Years beyond croniter's 50-year search.
        "0 0 1 1 * 0 2090",
    ],
)
def test_cron_that_can_never_match_returns_nothing(expression: str) -> None:
    assert cron(expression).next_times(utc(2026, 1, 1), None, 100) == []


def test_cron_rare_dates_are_found() -> None:
    # A 29 February that is a Monday.
    assert cron("0 0 29 2 1", day_or=False).next_times(utc(2026, 1, 1), None, 3) == [
        utc(2044, 2, 29),
        utc(2072, 2, 29),
        utc(2112, 2, 29),
    ]


def test_cron_at_the_end_of_the_calendar_stops() -> None:
    assert cron("0 0 * * *").next_times(utc(9999, 12, 30), None, 5) == [
        utc(9999, 12, 30),
        utc(9999, 12, 31),
    ]
    # 23:00 on 31 December 9999 in New York would be in the year 10000 in UTC.
    late = cron("0 23 * * *", NY).next_times(utc(9999, 12, 30), None, 5)
    assert late == [utc(9999, 12, 30, 4), utc(9999, 12, 31, 4)]


# --- cron: DST ------------------------------------------------------------------------


def test_cron_time_skipped_by_spring_forward_runs_as_far_into_the_new_hour() -> None:
    runs = cron("30 2 * * *", NY).next_times(utc(2026, 3, 7), None, 3)
    # 02:30 EST, then 03:30 EDT (02:30 never happens on the 8th: it is read as EST, 07:30
    # UTC, as the reference does), then 02:30 EDT.
    assert runs == [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)]


def test_cron_gap_runs_are_found_when_asked_from_just_after_the_jump() -> None:
    daily = cron("30 2 * * *", NY)
    assert daily.next_times(utc(2026, 3, 8, 7), None, 1) == [utc(2026, 3, 8, 7, 30)]
    assert daily.next_times(utc(2026, 3, 8, 7, 30), None, 1) == [utc(2026, 3, 8, 7, 30)]
    assert daily.next_times(utc(2026, 3, 8, 7, 31), None, 1) == [utc(2026, 3, 9, 6, 30)]
    # 02:00, 02:20 and 02:40 run at 03:00, 03:20 and 03:40 EDT; asked at 03:05.
    runs = cron("*/20 2 * * *", NY).next_times(utc(2026, 3, 8, 7, 5), None, 3)
    assert runs == [utc(2026, 3, 8, 7, 20), utc(2026, 3, 8, 7, 40), utc(2026, 3, 9, 6)]


def test_cron_half_hourly_over_spring_forward_has_no_duplicate() -> None:
    runs = cron("*/30 * * * *", NY).next_times(utc(2026, 3, 8, 6, 30), None, 4)
    # 01:30 EST; 02:00 and 02:30 (as EST) are 03:00 and 03:30 EDT, which run once each.
    times = [(6, 30), (7, 0), (7, 30), (8, 0)]
    assert runs == [utc(2026, 3, 8, hour, minute) for hour, minute in times]


def test_cron_midnight_skipped_in_santiago_runs_at_one() -> None:
    # Santiago jumps from 00:00 -04 to 01:00 -03 on 6 September 2026.
    runs = cron("0 0 * * *", "America/Santiago").next_times(utc(2026, 9, 5), None, 3)
    assert runs == [utc(2026, 9, 5, 4), utc(2026, 9, 6, 4), utc(2026, 9, 7, 3)]


def test_cron_after_a_half_hour_jump_keeps_the_reference_order() -> None:
    # Lord Howe jumps from 02:00 +10:30 to 02:30 +11 on 4 October 2026 (15:30 UTC). 02:25
    # is read as +10:30, 15:55 UTC, and comes first in croniter's order, before 02:35
    # (15:35 UTC): the reference keeps it when asked for one run, and stops at it when
    # asked for the runs up to 15:50, as Baton does.
    howe = cron("25,35 2 * * *", "Australia/Lord_Howe")
    start = utc(2026, 10, 3, 15)
    assert howe.next_times(start, None, 1) == [utc(2026, 10, 3, 15, 55)]
    assert howe.next_times(start, None, 2) == [utc(2026, 10, 3, 15, 35), utc(2026, 10, 3, 15, 55)]
    assert howe.next_times(start, utc(2026, 10, 3, 15, 50), 3) == []


def test_cron_hourly_over_spring_forward_has_no_duplicate() -> None:
    runs = cron("0 * * * *", NY).next_times(utc(2026, 3, 8, 5), None, 4)
    # 00:00 EST, 01:00 EST, 03:00 EDT (standing in for 02:00 and itself), 04:00 EDT.
    assert runs == [utc(2026, 3, 8, 5), utc(2026, 3, 8, 6), utc(2026, 3, 8, 7), utc(2026, 3, 8, 8)]


def test_cron_daily_over_fall_back() -> None:
    runs = cron("30 2 * * *", NY).next_times(utc(2026, 10, 31), None, 3)
    assert runs == [utc(2026, 10, 31, 6, 30), utc(2026, 11, 1, 7, 30), utc(2026, 11, 2, 7, 30)]


def test_cron_ambiguous_time_runs_once_at_its_first_occurrence() -> None:
    runs = cron("30 1 * * *", NY).next_times(utc(2026, 10, 31), None, 3)
    # 01:30 EDT on 1 Nov (05:30 UTC); the repeat at 01:30 EST (06:30 UTC) does not run.
    assert runs == [utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]
    assert cron("30 1 * * *", NY).next_times(utc(2026, 11, 1, 6), None, 1) == [
        utc(2026, 11, 2, 6, 30)
    ]


def test_cron_hourly_over_fall_back_runs_each_wall_hour_once() -> None:
    runs = cron("0 * * * *", NY).next_times(utc(2026, 11, 1, 4), None, 4)
    # 00:00 EDT, 01:00 EDT, (01:00 EST skipped), 02:00 EST, 03:00 EST.
    assert runs == [utc(2026, 11, 1, hour) for hour in (4, 5, 7, 8)]


def test_cron_half_hourly_over_fall_back_has_no_duplicate() -> None:
    runs = cron("*/30 * * * *", NY).next_times(utc(2026, 11, 1, 5), None, 4)
    times = [(5, 0), (5, 30), (7, 0), (7, 30)]
    assert runs == [utc(2026, 11, 1, hour, minute) for hour, minute in times]


# --- bounds ---------------------------------------------------------------------------


def test_next_times_includes_a_run_exactly_at_after() -> None:
    assert cron("0 * * * *").next_times(utc(2026, 1, 1, 3), None, 1) == [utc(2026, 1, 1, 3)]
    assert interval(60).next_times(utc(2026, 1, 1, 3), None, 1) == [utc(2026, 1, 1, 3)]


def test_next_times_stops_at_until_inclusive_and_at_limit() -> None:
    hourly = cron("0 * * * *")
    start = utc(2026, 1, 1)
    assert hourly.next_times(start, utc(2026, 1, 1, 3), 100) == [
        utc(2026, 1, 1, h) for h in range(4)
    ]
    assert hourly.next_times(start, None, 2) == [utc(2026, 1, 1), utc(2026, 1, 1, 1)]
    assert hourly.next_times(start, None, 0) == []
    assert hourly.next_times(start, start - dt.timedelta(seconds=1), 10) == []


def test_next_times_returns_utc() -> None:
    [run] = cron("0 9 * * *", NY).next_times(utc(2026, 1, 1), None, 1)
    assert run.utcoffset() == dt.timedelta(0)
    assert run.tzinfo is dt.UTC


def test_next_times_rejects_naive_after() -> None:
    with pytest.raises(ValueError, match="after must be timezone-aware"):
        cron("* * * * *").next_times(dt.datetime(2026, 1, 1), None, 1)


# --- interval -------------------------------------------------------------------------


def test_interval_default_anchor_aligns_runs_to_2020() -> None:
    # 2020-01-01 to 2026-01-01 is 2192 days = 189,388,800 s = 7 * 27,055,542 + 6.
    runs = interval(7).next_times(utc(2026, 1, 1), None, 2)
    assert runs == [utc(2026, 1, 1, 0, 0, 1), utc(2026, 1, 1, 0, 0, 8)]


def test_interval_default_anchor_is_midnight_in_the_schedule_zone() -> None:
    assert interval(86400, None, NY).next_times(utc(2026, 7, 1), None, 1) == [utc(2026, 7, 1, 4)]


def test_interval_runs_before_an_anchor_in_the_future_too() -> None:
    schedule = interval(3600, "2030-01-01T00:30:00+00:00")
    assert schedule.next_times(utc(2026, 1, 1), None, 1) == [utc(2026, 1, 1, 0, 30)]


def test_daily_interval_keeps_local_wall_time_across_dst() -> None:
    daily = interval(86400, "2026-03-01T09:00:00", NY)
    spring = daily.next_times(utc(2026, 3, 7), None, 3)
    assert spring == [utc(2026, 3, 7, 14), utc(2026, 3, 8, 13), utc(2026, 3, 9, 13)]
    fall = daily.next_times(utc(2026, 10, 31), None, 2)
    assert fall == [utc(2026, 10, 31, 13), utc(2026, 11, 1, 14)]


def test_daily_interval_in_the_gap_runs_when_the_gap_ends() -> None:
    daily = interval(86400, "2026-03-01T02:30:00", NY)
    runs = daily.next_times(utc(2026, 3, 7), None, 3)
    assert runs == [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)]


def test_sub_day_interval_is_exact_elapsed_time_across_dst() -> None:
    hourly = interval(3600, "2026-03-08T00:00:00-05:00", NY)
    assert hourly.next_times(utc(2026, 3, 8, 5), None, 4) == [
        utc(2026, 3, 8, h) for h in (5, 6, 7, 8)
    ]
    twice_daily = interval(43200, "2026-03-07T21:00:00-05:00", NY)
    # 21:00 EST, then 10:00 EDT (not 09:00): twelve real hours apart.
    assert twice_daily.next_times(utc(2026, 3, 8), None, 3) == [
        utc(2026, 3, 8, 2),
        utc(2026, 3, 8, 14),
        utc(2026, 3, 9, 2),
    ]


def test_fractional_interval() -> None:
    runs = interval(2.5, "2026-01-01T00:00:00Z").next_times(utc(2026, 1, 1, 0, 0, 1), None, 3)
    start = utc(2026, 1, 1)
    assert runs == [start + dt.timedelta(seconds=s) for s in (2.5, 5, 7.5)]


# --- rrule ----------------------------------------------------------------------------


def test_rrule_with_tzid_keeps_wall_time_across_dst() -> None:
    daily = rrule("DTSTART;TZID=America/New_York:20260301T090000\nRRULE:FREQ=DAILY")
    assert daily.next_times(utc(2026, 3, 7), None, 3) == [
        utc(2026, 3, 7, 14),
        utc(2026, 3, 8, 13),
        utc(2026, 3, 9, 13),
    ]
    assert daily.next_times(utc(2026, 10, 31), None, 2) == [
        utc(2026, 10, 31, 13),
        utc(2026, 11, 1, 14),
    ]


def test_rrule_time_in_the_gap_runs_when_the_gap_ends() -> None:
    daily = rrule("DTSTART;TZID=America/New_York:20260306T023000\nRRULE:FREQ=DAILY")
    assert daily.next_times(utc(2026, 3, 7), None, 3) == [
        utc(2026, 3, 7, 7, 30),
        utc(2026, 3, 8, 7),
        utc(2026, 3, 9, 6, 30),
    ]


def test_rrule_floating_dtstart_uses_the_schedule_zone() -> None:
    daily = rrule("DTSTART:20260306T090000\nRRULE:FREQ=DAILY", NY)
    assert daily.next_times(utc(2026, 3, 7), None, 2) == [utc(2026, 3, 7, 14), utc(2026, 3, 8, 13)]


def test_rrule_without_dtstart_starts_in_2020() -> None:
    daily = rrule("RRULE:FREQ=DAILY;BYHOUR=9")
    assert daily.next_times(utc(2026, 5, 5, 10), None, 2) == [
        utc(2026, 5, 6, 9),
        utc(2026, 5, 7, 9),
    ]


def test_rrule_exdate_rdate_and_count() -> None:
    text = (
        "DTSTART:20260101T090000Z\nRRULE:FREQ=DAILY;COUNT=5\n"
        "EXDATE:20260103T090000Z\nRDATE:20260103T120000Z"
    )
    schedule = rrule(text)
    assert schedule.next_times(utc(2025, 12, 31), None, 10) == [
        utc(2026, 1, 1, 9),
        utc(2026, 1, 2, 9),
        utc(2026, 1, 3, 12),
        utc(2026, 1, 4, 9),
        utc(2026, 1, 5, 9),
    ]
    assert schedule.next_times(utc(2026, 1, 4, 9), None, 10) == [
        utc(2026, 1, 4, 9),
        utc(2026, 1, 5, 9),
    ]


def test_rrule_exdate_with_tzid() -> None:
    text = (
        "DTSTART;TZID=America/New_York:20260307T090000\nRRULE:FREQ=DAILY\n"
        "EXDATE;TZID=America/New_York:20260308T090000"
    )
    assert rrule(text).next_times(utc(2026, 3, 7), None, 2) == [
        utc(2026, 3, 7, 14),
        utc(2026, 3, 9, 13),
    ]


def test_rrule_minutely_rule_started_long_ago() -> None:
    # 2020-01-01 to 2026-01-01 is 3,156,480 minutes = 7 * 450,925 + 5.
    expected = [utc(2026, 1, 1, 0, 2), utc(2026, 1, 1, 0, 9), utc(2026, 1, 1, 0, 16)]
    started = rrule("DTSTART:20200101T000000Z\nRRULE:FREQ=MINUTELY;INTERVAL=7")
    assert started.next_times(utc(2026, 1, 1), None, 3) == expected
    assert rrule("RRULE:FREQ=MINUTELY;INTERVAL=7").next_times(utc(2026, 1, 1), None, 3) == expected


def test_rrule_every_other_week() -> None:
    # 5 Jan 2026 is a Monday; 1 Jun 2026 is 21 weeks later, so not a run week.
    fortnightly = rrule("DTSTART:20260105T090000Z\nRRULE:FREQ=WEEKLY;INTERVAL=2")
    assert fortnightly.next_times(utc(2026, 6, 1), None, 2) == [
        utc(2026, 6, 8, 9),
        utc(2026, 6, 22, 9),
    ]


# --- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"cron": "61 * * * *"}, "cron: minute field '61' is not valid (out of range 0-59)"),
        ({"cron": "0 24 * * *"}, "cron: hour field '24' is not valid (out of range 0-23)"),
        ({"cron": "0 0 0 * *"}, "cron: day-of-month field '0' is not valid (out of range 1-31)"),
        ({"cron": "0 0 * 13 *"}, "cron: month field '13' is not valid (out of range 1-12)"),
        ({"cron": "0 0 * * 8"}, "cron: day-of-week field '8' is not valid (out of range 0-7)"),
        ({"cron": "0 0 * * FUNDAY"}, "cron: day-of-week field 'FUNDAY' is not valid in '0 0"),
        ({"cron": "0 0 * JAN-FOO *"}, "cron: month field 'JAN-FOO' is not valid in"),
        ({"cron": "1,,2 * * * *"}, "cron: minute field '1,,2' is not valid in '1,,2 * * * *'"),
        ({"cron": "*/0 * * * *"}, "cron: minute field '*/0' is not valid"),
        ({"cron": "*/x * * * *"}, "cron: minute field '*/x' is not valid"),
        ({"cron": "0 0 * * 5L"}, "cron: day-of-week field '5L' is not valid"),
        ({"cron": "0 0 LW * *"}, "cron: day-of-month field 'LW' is not valid"),
        ({"cron": "0 0 15W * *"}, "cron: day-of-month field '15W' is not valid"),
        (
            {"cron": "0 0 * * 1#6"},
            "cron: day-of-week field '1#6' is not valid (Invalid day_of_week value: '6')",
        ),
        (
            {"cron": "0 0 * * 1#2,3"},
            "cron: day-of-week field '1#2,3' is not valid (day-of-week field does not support "
            "mixing literal values and nth day of week syntax) in '0 0 * * 1#2,3'",
        ),
        (
            {"cron": "0 0 1 1 * 2030"},
            "cron: second field '2030' is not valid (out of range 0-59) in '0 0 1 1 * 2030'",
        ),
        ({"cron": "0 0 1 1 * 0 1960"}, "cron: year field '1960' is not valid (out of range 1970"),
        (
            {"cron": "0 0 * *"},
            "cron: expected 5 fields (minute hour day-of-month month day-of-week), 6 with "
            "seconds or 7 with seconds and year; got 4 in '0 0 * *'",
        ),
        ({"cron": ""}, "cron: expected 5 fields"),
        ({"cron": "@reboot"}, "cron: unknown macro '@reboot'"),
        ({"cron": " @daily"}, "cron: unknown macro ' @daily'"),
        ({"cron": "H 0 * * *"}, "cron: hashed fields (H) are not supported: 'H 0 * * *'"),
        ({"cron": "H/5 * * * *"}, "cron: hashed fields (H) are not supported"),
        (
            {"cron": "R 0 * * *"},
            "cron: random (R) and hashed (H) fields are not supported: 'R 0 * * *'",
        ),
        ({"cron": 5}, "cron: must be a string such as '0 9 * * 1-5'"),
        ({"cron": "* * * * *", "day_or": "yes"}, "day_or: must be true or false"),
        ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "timezone: unknown time zone"),
        (
            {"cron": "* * * * *", "timezone": 5},
            "timezone: must be a time zone name such as 'America/New_York'",
        ),
        ({"interval": 0}, "interval: must be greater than 0"),
        ({"interval": -10.0}, "interval: must be greater than 0"),
        ({"interval": float("nan")}, "interval: must be greater than 0"),
        ({"interval": "10"}, "interval: must be a number of seconds"),
        ({"interval": True}, "interval: must be a number of seconds"),
        (
            {"interval": 10, "anchor_date": "yesterday"},
            "interval: anchor_date 'yesterday' is not an ISO 8601 date-time",
        ),
        ({"rrule": ""}, "rrule: must be a non-empty RFC 5545 recurrence string"),
        (
            {"rrule": "DTSTART;TZID=Mars/Olympus:20260101T090000\nRRULE:FREQ=DAILY"},
            "rrule: DTSTART has unknown time zone 'Mars/Olympus'",
        ),
        ({}, "schedule: expected exactly one of 'interval', 'cron' or 'rrule', got []"),
        (
            {"cron": "* * * * *", "rrule": "RRULE:FREQ=DAILY"},
            "schedule: expected exactly one of 'interval', 'cron' or 'rrule', "
            "got ['cron', 'rrule']",
        ),
        (
            {"cron": "* * * * *", "interval_seconds": 5},
            "cron: unexpected field(s) ['interval_seconds']; accepted: cron, day_or, timezone",
        ),
    ],
)
def test_invalid_schedules_name_the_problem(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ScheduleError, match=re.escape(message)):
        parse_schedule(raw)


def test_unknown_time_zone_message_names_the_zone() -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule({"interval": 10, "timezone": "Mars/Olympus"})
    assert str(caught.value) == "timezone: unknown time zone 'Mars/Olympus'"


@pytest.mark.parametrize(
    "text",
    [
        "RRULE:FREQ=SOMETIMES",
        "DTSTART:20260101T090000\nRRULE:FREQ=DAILY\nEXDATE:20260103T090000Z",
    ],
)
def test_invalid_rrule_is_a_schedule_error(text: str) -> None:
    with pytest.raises(ScheduleError, match=r"^rrule: "):
        parse_schedule({"rrule": text})


def test_schedule_must_be_an_object() -> None:
    with pytest.raises(ScheduleError, match="schedule: expected an object"):
        parse_schedule(["cron"])  # type: ignore[arg-type]


def test_schedule_error_is_a_value_error() -> None:
    assert issubclass(ScheduleError, ValueError)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"cron": "0 0 * * 5L"}, "cron"),
        ({"cron": "* * * * *", "day_or": 1}, "day_or"),
        ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "timezone"),
        ({"interval": 0}, "interval"),
        ({"rrule": ""}, "rrule"),
        ({}, "schedule"),
    ],
)
def test_schedule_error_names_its_field(raw: dict[str, object], field: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(raw)
    assert caught.value.field == field


# --- wire shape, kind, describe -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "wire"),
    [
        (
            {"interval": 10, "anchor_date": None, "timezone": None},
            {"interval": 10.0, "anchor_date": "2020-01-01T00:00:00+00:00", "timezone": "UTC"},
        ),
        (
            {"interval": 86400.0, "anchor_date": "2026-03-01T09:00:00", "timezone": NY},
            {"interval": 86400.0, "anchor_date": "2026-03-01T09:00:00-05:00", "timezone": NY},
        ),
        (
            {"interval": 60, "anchor_date": "2026-07-01T12:00:00Z", "timezone": NY},
            {"interval": 60.0, "anchor_date": "2026-07-01T08:00:00-04:00", "timezone": NY},
        ),
        (
            {"cron": " 0 9 * * 1-5 ", "timezone": None},
            {"cron": "0 9 * * 1-5", "timezone": "UTC", "day_or": True},
        ),
        (
            {"cron": "@daily", "timezone": NY, "day_or": False},
            {"cron": "@daily", "timezone": NY, "day_or": False},
        ),
        (
            {"rrule": "RRULE:FREQ=DAILY;BYHOUR=9", "timezone": None},
            {"rrule": "RRULE:FREQ=DAILY;BYHOUR=9", "timezone": "UTC"},
        ),
        (
            {"rrule": "DTSTART;TZID=America/New_York:20260101T090000\nRRULE:FREQ=DAILY"},
            {
                "rrule": "DTSTART;TZID=America/New_York:20260101T090000\nRRULE:FREQ=DAILY",
                "timezone": NY,
            },
        ),
    ],
)
def test_to_wire_normalizes_and_round_trips(
    raw: dict[str, object], wire: dict[str, object]
) -> None:
    schedule = parse_schedule(raw)
    assert schedule.to_wire() == wire
    assert parse_schedule(schedule.to_wire()) == schedule


def test_kind_names_the_shape() -> None:
    assert interval(10).kind == "IntervalSchedule"
    assert cron("* * * * *").kind == "CronSchedule"
    assert rrule("RRULE:FREQ=DAILY").kind == "RRuleSchedule"


def test_parse_returns_the_matching_class() -> None:
    assert isinstance(interval(10), IntervalSchedule)
    assert isinstance(cron("* * * * *"), CronSchedule)
    assert isinstance(rrule("RRULE:FREQ=DAILY"), RRuleSchedule)


@pytest.mark.parametrize(
    ("schedule", "text"),
    [
        (interval(10), "every 10 seconds"),
        (interval(1), "every second"),
        (interval(0.5), "every 0.5 seconds"),
        (interval(300), "every 5 minutes"),
        (interval(3600), "every hour"),
        (interval(5400), "every 90 minutes"),
        (interval(86400, "2026-01-01T09:00:00", NY), "every day at 09:00 (America/New_York)"),
        (interval(172800), "every 2 days at 00:00 (UTC)"),
        (cron("* * * * *"), "every minute"),
        (cron("*/15 * * * *"), "every 15 minutes"),
        (cron("0 * * * *"), "every hour"),
        (cron("5 * * * *"), "every hour at minute 5"),
        (cron("0 9 * * *", NY), "every day at 09:00 (America/New_York)"),
        (cron("0 9 * * 1-5"), "at 09:00 on Monday through Friday (UTC)"),
        (cron("0 12 * * MON,WED,FRI"), "at 12:00 on Monday, Wednesday and Friday (UTC)"),
        (cron("0 0 1 * *"), "at 00:00 on day 1 of the month (UTC)"),
        (cron("@daily"), "every day at 00:00 (UTC)"),
        (cron("0 0 1 1 *"), "cron 0 0 1 1 * (UTC)"),
        (cron("0 9-17 * * *", NY), "cron 0 9-17 * * * (America/New_York)"),
        (cron("@hourly"), "every hour"),
        (cron("0 0 ? * *"), "every day at 00:00 (UTC)"),
        (cron("0-59 * * * *"), "every minute"),
        (cron("*/7 * * * *"), "cron */7 * * * * (UTC)"),  # 56 to 0 is 4 minutes
        (cron("0 0 1,15 * *"), "at 00:00 on days 1 and 15 of the month (UTC)"),
        (cron("0 6 L * *", NY), "at 06:00 on the last day of the month (America/New_York)"),
        (cron("0 9 * * 1#2"), "at 09:00 on the second Monday of the month (UTC)"),
        (cron("30 17 * * L5"), "at 17:30 on the last Friday of the month (UTC)"),
        (cron("0 0 * * 5-1"), "at 00:00 on Sunday, Monday, Friday and Saturday (UTC)"),
        (cron("0 0 * * mon#1,fri#3"), "cron 0 0 * * mon#1,fri#3 (UTC)"),
        (cron("0 0 12 * 1"), "cron 0 0 12 * 1 (UTC)"),
        (cron("0 0 * * * 30"), "cron 0 0 * * * 30 (UTC)"),
        (cron("0 0 1 1 * 0 2030"), "cron 0 0 1 1 * 0 2030 (UTC)"),
        (
            rrule("DTSTART;TZID=America/New_York:20260101T090000\nRRULE:FREQ=DAILY;BYHOUR=9"),
            "rrule FREQ=DAILY;BYHOUR=9 (America/New_York)",
        ),
    ],
)
def test_describe(schedule: Schedule, text: str) -> None:
    assert schedule.describe() == text


# --- the scheduler's horizon ----------------------------------------------------------


def test_horizon_for_a_ten_second_interval_is_a_hundred_runs() -> None:
    now = utc(2026, 11, 26, 23, 0, 5)
    runs = runs_to_schedule(interval(10), now)
    assert len(runs) == 100
    assert runs[0] == utc(2026, 11, 26, 23, 0, 10)
    assert runs[-1] == utc(2026, 11, 26, 23, 16, 40)


def test_horizon_for_a_daily_schedule_is_three_runs() -> None:
    runs = runs_to_schedule(cron("0 9 * * *", NY), utc(2026, 1, 1))
    assert runs == [utc(2026, 1, 1, 14), utc(2026, 1, 2, 14), utc(2026, 1, 3, 14)]


def test_horizon_for_an_hourly_schedule_covers_the_hour_and_three_runs() -> None:
    hourly = cron("0 * * * *")
    assert runs_to_schedule(hourly, utc(2026, 1, 1, 0, 30)) == [
        utc(2026, 1, 1, 1),
        utc(2026, 1, 1, 2),
        utc(2026, 1, 1, 3),
    ]
    assert runs_to_schedule(hourly, utc(2026, 1, 1), min_time=dt.timedelta(hours=3)) == [
        utc(2026, 1, 1, h) for h in range(4)
    ]
    quarterly = runs_to_schedule(cron("*/15 * * * *"), utc(2026, 1, 1))
    assert quarterly == [utc(2026, 1, 1, 0, m) for m in (0, 15, 30, 45)] + [utc(2026, 1, 1, 1)]


def test_horizon_includes_a_run_due_now() -> None:
    assert runs_to_schedule(cron("0 * * * *"), utc(2026, 1, 1, 5))[0] == utc(2026, 1, 1, 5)


def test_horizon_max_scheduled_runs_caps_the_count() -> None:
    assert len(runs_to_schedule(interval(10), utc(2026, 1, 1), max_scheduled_runs=2)) == 2
    hourly = runs_to_schedule(cron("0 * * * *"), utc(2026, 1, 1), max_scheduled_runs=1)
    assert hourly == [utc(2026, 1, 1)]


def test_horizon_max_time_caps_the_span() -> None:
    runs = runs_to_schedule(cron("0 9 * * *", NY), utc(2026, 1, 1), max_time=dt.timedelta(hours=40))
    assert runs == [utc(2026, 1, 1, 14), utc(2026, 1, 2, 14)]
    assert runs_to_schedule(cron("0 0 29 2 *"), utc(2026, 1, 1)) == []


def test_horizon_max_runs_caps_the_count() -> None:
    assert len(runs_to_schedule(interval(10), utc(2026, 1, 1), max_runs=7)) == 7


def test_horizon_instants_do_not_depend_on_when_now_falls() -> None:
    hourly = interval(3600)
    early = runs_to_schedule(hourly, utc(2026, 1, 1, 10, 17, 23) + dt.timedelta(microseconds=5))
    late = runs_to_schedule(hourly, utc(2026, 1, 1, 10, 45))
    assert early == late == [utc(2026, 1, 1, 11), utc(2026, 1, 1, 12), utc(2026, 1, 1, 13)]
    cron_runs = runs_to_schedule(cron("*/10 * * * *"), utc(2026, 1, 1, 10, 3, 7))
    assert cron_runs[0] == utc(2026, 1, 1, 10, 10)


# --- idempotency key ------------------------------------------------------------------


def test_idempotency_key_format() -> None:
    deployment = uuid.UUID("8c9b1c2e-7a0e-4f3e-9d8e-1a2b3c4d5e6f")
    schedule = uuid.UUID("0f1e2d3c-4b5a-4968-8776-655443322110")
    when = dt.datetime(2026, 11, 26, 18, 0, 10, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert idempotency_key(deployment, schedule, when) == (
        "scheduled 8c9b1c2e-7a0e-4f3e-9d8e-1a2b3c4d5e6f "
        "0f1e2d3c-4b5a-4968-8776-655443322110 2026-11-26 23:00:10+00:00"
    )
    precise = utc(2026, 11, 26, 23, 0, 10) + dt.timedelta(microseconds=500000)
    assert idempotency_key("d", "s", precise) == "scheduled d s 2026-11-26 23:00:10.500000+00:00"


def test_idempotency_key_rejects_naive_times() -> None:
    with pytest.raises(ValueError, match="when must be timezone-aware"):
        idempotency_key("d", "s", dt.datetime(2026, 1, 1))
