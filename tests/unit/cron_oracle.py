"""The reference's answers for tests/unit/test_cron_corpus.py. Run ONLY by the Prefect
oracle interpreter (.venv-prefect/bin/python), never imported by the tests.

Reads JSON on stdin:
    {"dates": [{"cron", "timezone", "day_or", "start", "n", "end"?}, ...], "valid": [str, ...]}
and writes JSON on stdout:
    {"dates": [[iso instant (UTC), ...], ...], "valid": [bool, ...]}

`dates` come from prefect.server.schemas.schedules.CronSchedule.get_dates(n=, start=, end=).
When croniter gives up (no match within the 50 years it searches), get_dates raises
CroniterBadDateError and loses what it had found; the same generator get_dates sorts is
then read up to that point, as the dates before "no more runs". `valid` says whether the
client model prefect.client.schemas.schedules.CronSchedule(cron=s) validates.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sys
from typing import Any

from prefect._vendor.croniter import CroniterBadDateError
from prefect.client.schemas.schedules import CronSchedule as ClientCronSchedule
from prefect.server.schemas.schedules import CronSchedule


async def _dates(case: dict[str, Any], schedules: dict[tuple[str, str, bool], Any]) -> list[str]:
    key = (case["cron"], case["timezone"], case["day_or"])
    if key not in schedules:  # the model validates on construction: once per schedule
        schedules[key] = CronSchedule(cron=key[0], timezone=key[1], day_or=key[2])
    schedule = schedules[key]
    start = dt.datetime.fromisoformat(case["start"])
    end = dt.datetime.fromisoformat(case["end"]) if case.get("end") else None
    try:
        found = await schedule.get_dates(n=case["n"], start=start, end=end)
    except CroniterBadDateError:
        found = []
        with contextlib.suppress(CroniterBadDateError):
            found.extend(schedule._get_dates_generator(n=case["n"], start=start, end=end))
        found.sort()
    return [when.astimezone(dt.UTC).isoformat() for when in found]


def _valid(text: str) -> bool:
    try:
        ClientCronSchedule(cron=text)
    except ValueError:  # pydantic's ValidationError is one
        return False
    return True


async def main() -> None:
    request = json.load(sys.stdin)
    schedules: dict[tuple[str, str, bool], Any] = {}
    answer = {
        "dates": [await _dates(case, schedules) for case in request.get("dates", [])],
        "valid": [_valid(text) for text in request.get("valid", [])],
    }
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
