"""What every schedule shares: the error it raises and the bounds of `next_times`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

# Every run of an interval schedule (and of an rrule without DTSTART) lines up with this
# wall time.
DEFAULT_ANCHOR = dt.datetime(2020, 1, 1)


class ScheduleError(ValueError):
    """A schedule the server cannot accept; the message names the field and the problem."""

    @property
    def field(self) -> str:
        """The field the message starts with: `cron` for "cron: ..."."""
        return str(self).partition(":")[0]


def require_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def bounded(
    instants: Iterator[dt.datetime], after: dt.datetime, until: dt.datetime | None, limit: int
) -> list[dt.datetime]:
    """The first `limit` distinct instants >= `after` and <= `until` from an ordered stream."""
    require_aware(after, "after")
    if until is not None:
        require_aware(until, "until")
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
