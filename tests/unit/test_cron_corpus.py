"""Cron next-run times and cron acceptance, checked against the reference itself.

The expected values are not written down: tests/unit/cron_oracle.py computes them with the
real Prefect 3.9.1 (.venv-prefect) at test time, in one subprocess that runs while Baton
computes its own answers. This module never imports prefect.

The corpus crosses 200+ expressions with seven zones (two without DST) and start instants
around both 2026 clock changes of each DST zone: an hour and a second before, at, a quarter
second and a second after, halfway through the repeated hour (or through the gap's length
after a jump forward), its last second, its end and an hour later; and ordinary dates."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from baton.orchestration.schedules import CronSchedule, ScheduleError, parse_schedule

ROOT = Path(__file__).resolve().parents[2]
PREFECT_PYTHON = ROOT / ".venv-prefect" / "bin" / "python"
ORACLE = Path(__file__).with_name("cron_oracle.py")
UTC = dt.UTC

# --- the corpus -----------------------------------------------------------------------

# Expressions whose runs fall in or near the hours the clocks change (01:00-03:00 in most
# zones, midnight in Santiago, half hours in Lord Howe): every start instant, every zone.
DST_FOCUS = [
    "* * * * *",
    "*/5 * * * *",
    "*/20 * * * *",
    "0 * * * *",
    "30 * * * *",
    "0 0 * * *",
    "0 1 * * *",
    "30 1 * * *",
    "0 2 * * *",
    "30 2 * * *",
    "0 3 * * *",
    "*/15 1-3 * * *",
    "10,40 2 * * *",
    "0 */2 * * *",
    "30 2 * * * 30",
    "* 2 * * * */20",
    "@daily",
    "30 2 * * 0#2",
    "0 2 * * L0",
    "*/10 23 * * *",
]

OTHER = [
    "30 0 * * *",
    "45 1 * * *",
    "59 2 * * *",
    "0,30 * * * *",
    "@hourly",
    # fields, steps, ranges and lists
    "*/15 * * * *",
    "1-10/3 * * * *",
    "5/20 * * * *",
    "*/7 * * * *",
    "0-30/10 * * * *",
    "50-10 * * * *",
    "59 * * * *",
    "15,45 * * * *",
    "0,15,30,45 * * * *",
    "5-9 * * * *",
    "0 */3 * * *",
    "15 */4 * * *",
    "0 */5 * * *",
    "0 6,12,18 * * *",
    "0,30 9,17 * * *",
    "7 3-4 * * *",
    "0 9-17 * * *",
    "0 9-17/2 * * *",
    "0 22-2 * * *",
    "20 4-23/6 * * *",
    "0 9 * * *",
    "15 12 * * *",
    "45 23 * * *",
    "59 23 * * *",
    "0 12 * * 1-5",
    "0 8 * * 6,0",
    "0 9 * * 1-5",
    "30 17 * * 5",
    "0 0 1 * *",
    "0 0 15 * *",
    "0 12 1,15 * *",
    "0 0 1-31/10 * *",
    "0 0 */2 * *",
    "0 6 5-25/5 * *",
    "0 0 28-31 * *",
    "0 0 31 * *",
    "0 0 30 * *",
    "0 0 1 1 *",
    "0 0 1 */3 *",
    "0 0 1 1,4,7,10 *",
    "0 12 * 6-8 *",
    "0 0 * 11-2 *",
    "30 6 10 3 *",
    "0 0 25 12 *",
    "0 0 * * 0",
    "0 0 * * 7",
    "0 0 * * 5-7",
    "0 0 * * 5-1",
    "0 0 * * 1-5/2",
    "*/30 9-17 * * 1-5",
    "0 9 1-7 * 1",
    "0 0 12 * 1",
    "0 0 13 * 5",
    "0 7 1,15 * 3",
    # names, any case
    "0 12 * JAN,jul mon-FRI",
    "0 0 * * SUN",
    "0 0 * * sat,sun",
    "0 8 * FEB-APR *",
    "0 0 1 dec *",
    "0 0 * * tue-thu",
    "0 0 * * fri-mon",
    "0 0 * nov-feb *",
    "0 18 * * Fri",
    "30 8 * Mar-Oct Mon,Wed",
    "0 0 1 jan-dec/2 *",
    "0 10 * AUG sat",
    "0 0 * * MON-SUN",
    # last day, nth weekday, last weekday, "?"
    "0 0 L * *",
    "0 12 L 2 *",
    "30 23 L * *",
    "0 0 1-L * *",
    "0 0 15,L * *",
    "0 0 L 1,4,7,10 *",
    "0 0 L * 5",
    "0 9 * * 1#2",
    "0 9 * * fri#1",
    "0 9 * * sun#5",
    "0 0 * * 2#3",
    "15 10 * * 6#4",
    "0 0 * * sun#1,mon#2",
    "0 0 * * mon#1,mon#3",
    "30 1 * * 0#1",
    "0 0 * * L5",
    "0 0 * * L0",
    "0 12 * * L1",
    "30 18 * * L6",
    "0 0 * 3,10 L0",
    "0 0 ? * *",
    "0 0 ? * mon",
    "0 0 1 * ?",
    "*/10 * ? * ?",
    "0 6 ? 2 *",
    # macros
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@midnight",
    "@DAILY",
    "@Hourly",
    "@Weekly",
    # seconds (a sixth field) and years (a seventh)
    "* * * * * *",
    "* * * * * */10",
    "0 0 * * * 30",
    "*/5 * * * * */15",
    "0 */2 * * * 45",
    "15 1 * * sun 10",
    "0 0 L * * 59",
    "30 9 * * 1-5 0,30",
    "0 12 * * * 0 2026-2027",
    "0 0 1 1 * 0 2030",
    "30 2 * * * 0 2026",
    "0 0 * * * 0 *",
    "0 0 1 * * 0 */2",
    "0 9 * * mon 0 2026,2028",
    # rare and never
    "0 0 29 2 *",
    "0 0 31 2 *",
    "0 0 30 2 *",
    "0 0 31 4,6,9,11 *",
    "0 0 31 2 1",
    "0 0 29 2 1",
    "0 12 13 * 5",
]

# More daily and hourly shapes, to pass 200 distinct expressions.
GENERATED = [f"{minute} {hour} * * *" for hour in (4, 5, 6, 11, 20) for minute in (0, 17, 44)]
GENERATED += [f"{minute} * * * *" for minute in (1, 13, 29, 31, 47, 58)]
GENERATED += [
    f"{minute} {hour} * * {day}"
    for day in ("0", "2", "4")
    for minute, hour in ((5, 1), (55, 2), (30, 3))
]
GENERATED += [f"0 {hour} {day} * *" for hour in (0, 1, 2, 3) for day in (1, 5, 25, 28)]
GENERATED += [f"*/{step} {hour} * * *" for step in (2, 3, 12) for hour in ("1", "2", "0-3")]
GENERATED += [f"0 {hour} * {month} *" for hour in (2, 9) for month in ("3", "10", "4,9", "APR")]

# (expression, day_or) pairs run with day_or=False as well: only where both day fields are
# restricted does it change anything, and two where it does not.
DAY_AND = [
    "0 0 12 * 1",
    "0 0 13 * 5",
    "0 9 1-7 * 1",
    "0 0 L * 5",
    "0 0 29 2 1",
    "0 7 1,15 * 3",
    "0 12 13 * 5",
    "30 2 8-14 * 0",
    "0 0 * * 1",
    "0 0 12 * *",
]

NO_DST_ZONES = ["UTC", "Asia/Kolkata"]
# Each zone's two 2026 clock changes: the instant (UTC) and how far the clocks moved.
CHANGES = {
    "America/New_York": [("2026-03-08T07:00:00", 60), ("2026-11-01T06:00:00", -60)],
    "Europe/London": [("2026-03-29T01:00:00", 60), ("2026-10-25T01:00:00", -60)],
    "Australia/Sydney": [("2026-04-04T16:00:00", -60), ("2026-10-03T16:00:00", 60)],
    "Australia/Lord_Howe": [("2026-04-04T15:00:00", -30), ("2026-10-03T15:30:00", 30)],
    "America/Santiago": [("2026-04-05T03:00:00", -60), ("2026-09-06T04:00:00", 60)],
}
ORDINARY = [
    dt.datetime(2026, 1, 15, 10, 17, 23, tzinfo=UTC),
    dt.datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
    dt.datetime(2026, 2, 28, 12, tzinfo=UTC),
    dt.datetime(2027, 12, 31, 23, 0, tzinfo=UTC),
]
RUNS = 6  # n, and Baton's limit


def around(change: str, minutes: int) -> list[dt.datetime]:
    moment = dt.datetime.fromisoformat(change).replace(tzinfo=UTC)
    moved = dt.timedelta(minutes=abs(minutes))
    second = dt.timedelta(seconds=1)
    steps = [
        -dt.timedelta(hours=1),
        -second,
        dt.timedelta(0),
        second,
        dt.timedelta(microseconds=250_000),
        moved / 2,
        moved - second,
        moved,
        moved + dt.timedelta(hours=1),
    ]
    return [moment + step for step in steps]


def near_changes(zone: str) -> list[dt.datetime]:
    return [when for change, minutes in CHANGES.get(zone, []) for when in around(change, minutes)]


@dataclass(frozen=True)
class Case:
    cron: str
    timezone: str
    day_or: bool
    start: dt.datetime
    until: dt.datetime | None

    def to_oracle(self) -> dict[str, Any]:
        body = {
            "cron": self.cron,
            "timezone": self.timezone,
            "day_or": self.day_or,
            "start": self.start.isoformat(),
            "n": RUNS,
        }
        return body if self.until is None else {**body, "end": self.until.isoformat()}


def corpus() -> list[Case]:
    zones = [*NO_DST_ZONES, *CHANGES]
    cases: list[Case] = []

    def add(cron: str, zone: str, day_or: bool, start: dt.datetime) -> None:
        # Every seventh case also has an end, six hours on.
        until = start + dt.timedelta(hours=6) if len(cases) % 7 == 3 else None
        cases.append(Case(cron, zone, day_or, start, until))

    for cron in DST_FOCUS:
        for zone in zones:
            for start in near_changes(zone) or ORDINARY:
                add(cron, zone, True, start)
    others = [(cron, True) for cron in OTHER + GENERATED] + [(cron, False) for cron in DAY_AND]
    for index, (cron, day_or) in enumerate(others):
        for zone_index, zone in enumerate(zones):
            # One start per zone, rotating so that each start meets many expressions.
            choices = near_changes(zone) + ORDINARY
            add(cron, zone, day_or, choices[(index * 7 + zone_index * 3) % len(choices)])
    return cases


CASES = corpus()

# Strings whose acceptance must match the client's: croniter's syntax, and what it refuses.
ACCEPTANCE = [
    *(
        "0 0 L * *",
        "0 9 * * 1#2",
        "0 0 * * L5",
        "0 0 ? * *",
        "@daily",
        "@DAILY",
        "@midnight",
        "0 0 * * 5-1",
        "5-5 * * * *",
        "0 0 * * 1-5/2",
        "0 0 * * * 30",
        "0 0 1 1 * 0 2030",
        " 0 9 * * 1-5 ",
        "R/5 * * * *",
        "r(0-29) 0 * * *",
        "0 0 * * sun#1,mon#2",
    ),
    *(
        "0 0 * * 5L",
        "0 0 LW * *",
        "0 0 15W * *",
        "H 0 * * *",
        "h 0 * * *",
        "R 0 * * *",
        "0 r * * *",
        "H/5 * * * *",
        "@reboot",
        " @daily",
        "60 * * * *",
        "0 24 * * *",
        "0 0 0 * *",
        "0 0 * 13 *",
        "0 0 * * 8",
        "0 0 * * 1#6",
        "0 0 * * 1#2,3",
        "0 0 1 1 * 2030",
        "0 0 L-3 * *",
        "0 0 * * L",
        "*/0 * * * *",
        "1,,2 * * * *",
        "0 0 ? ? 1?",
        "0 0 * * FUNDAY",
        "* * *",
        "* * * * * * * *",
        "",
    ),
]
MUST_REFUSE = {"0 0 * * 5L", "0 0 LW * *", "0 0 15W * *", "H 0 * * *", "R 0 * * *"}
MUST_REFUSE |= {"@reboot", "60 * * * *", "0 24 * * *", "0 0 * * 1#6", "0 0 1 1 * 2030"}
MUST_REFUSE |= {"* * *", ""}


# --- running both ---------------------------------------------------------------------


@dataclass(frozen=True)
class Answers:
    reference: list[list[str]]
    baton: list[list[str]]
    reference_valid: list[bool]
    seconds: float


@pytest.fixture(scope="module")
def answers() -> Answers:
    if not PREFECT_PYTHON.exists():
        pytest.fail(f"{PREFECT_PYTHON} is missing: run `make prefect` (the cron oracle needs it)")
    began = time.perf_counter()
    request = {"dates": [case.to_oracle() for case in CASES], "valid": ACCEPTANCE}
    with tempfile.TemporaryFile("w+") as stdin:
        json.dump(request, stdin)
        stdin.seek(0)
        oracle = subprocess.Popen(
            [str(PREFECT_PYTHON), str(ORACLE)],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        schedules: dict[tuple[str, str, bool], CronSchedule] = {}
        baton = [baton_times(case, schedules) for case in CASES]  # while the oracle works
        out, err = oracle.communicate(timeout=120)
    assert oracle.returncode == 0, err
    reply = json.loads(out)
    return Answers(reply["dates"], baton, reply["valid"], time.perf_counter() - began)


def baton_times(case: Case, schedules: dict[tuple[str, str, bool], CronSchedule]) -> list[str]:
    key = (case.cron, case.timezone, case.day_or)
    schedule = schedules.get(key) or schedules.setdefault(key, CronSchedule(*key))
    runs = schedule.next_times(case.start, case.until, RUNS)
    return [when.isoformat() for when in runs]


# --- the tests ------------------------------------------------------------------------


def test_the_corpus_is_as_large_as_promised() -> None:
    expressions = {case.cron for case in CASES}
    assert len(expressions) >= 200
    assert {case.timezone for case in CASES} >= {
        "UTC",
        "America/New_York",
        "Europe/London",
        "Australia/Sydney",
        "Asia/Kolkata",
    }
    assert any(not case.day_or for case in CASES)
    assert any(case.until is not None for case in CASES)


@pytest.mark.parametrize(
    ("zone", "change", "minutes"),
    [(zone, change, minutes) for zone, changes in CHANGES.items() for change, minutes in changes],
)
def test_the_clock_changes_are_where_the_corpus_says(zone: str, change: str, minutes: int) -> None:
    from zoneinfo import ZoneInfo

    moment = dt.datetime.fromisoformat(change).replace(tzinfo=UTC)
    before = (moment - dt.timedelta(seconds=1)).astimezone(ZoneInfo(zone)).utcoffset()
    after = moment.astimezone(ZoneInfo(zone)).utcoffset()
    assert before is not None
    assert after is not None
    assert after - before == dt.timedelta(minutes=minutes)


@pytest.mark.parametrize("zone", [*NO_DST_ZONES, *CHANGES])
def test_next_times_match_the_reference(answers: Answers, zone: str) -> None:
    compared = 0
    wrong = []
    for case, expected, got in zip(CASES, answers.reference, answers.baton, strict=True):
        if case.timezone != zone:
            continue
        compared += 1
        if got != expected:
            wrong.append(f"{case}: Baton {got}, reference {expected}")
    assert compared > 250
    assert not wrong, f"{len(wrong)} of {compared} differ:\n" + "\n".join(wrong[:10])


def test_the_reference_answers_are_not_trivial(answers: Answers) -> None:
    # Most cases have a full set of runs; the never-matching ones have none.
    full = sum(len(times) == RUNS for times in answers.reference)
    assert full > len(CASES) * 0.8
    never = [
        times
        for case, times in zip(CASES, answers.reference, strict=True)
        if case.cron in ("0 0 31 2 *", "0 0 31 4,6,9,11 *")
    ]
    assert never
    assert all(times == [] for times in never)


def test_the_whole_check_is_fast(answers: Answers) -> None:
    assert answers.seconds < 20, f"{len(CASES)} cases took {answers.seconds:.1f} s"


def test_acceptance_matches_the_client(answers: Answers) -> None:
    verdicts = dict(zip(ACCEPTANCE, answers.reference_valid, strict=True))
    assert {text for text, valid in verdicts.items() if not valid} >= MUST_REFUSE
    assert all(verdicts[text] for text in ("0 0 L * *", "0 9 * * 1#2", "0 0 * * L5", "@daily"))
    for text, valid in verdicts.items():
        verdict = baton_verdict(text)
        assert verdict == ("accepted" if valid else "refused"), f"{text!r}: Baton says {verdict}"


def baton_verdict(text: str) -> str:
    """'accepted', 'refused' (a ScheduleError naming the cron field), or what went wrong."""
    try:
        parse_schedule({"cron": text})
    except ScheduleError as exc:
        return "refused" if exc.field == "cron" and str(exc).startswith("cron: ") else repr(exc)
    return "accepted"
