"""Schedules put in words for the UI and the CLI ("every 15 minutes", "at 09:00 on Monday
through Friday")."""

from __future__ import annotations

from collections.abc import Collection, Sequence

WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_NTH = ("first", "second", "third", "fourth", "fifth")


def every(count: float, unit: str) -> str:
    number = f"{count:g}" if isinstance(count, float) else str(count)
    return f"every {unit}" if count == 1 else f"every {number} {unit}s"


def listing(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def weekday_words(days: Collection[int]) -> str:
    """Days of the week (0 = Sunday): a run of three or more reads 'Monday through Friday'."""
    ordered = sorted(days)
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{WEEKDAYS[ordered[0]]} through {WEEKDAYS[ordered[-1]]}"
    return listing([WEEKDAYS[day] for day in ordered])


def nth_weekday_words(day: int, nth: int | str) -> str:
    """'the second Monday of the month'; `nth` is 1-5, or 'l' for the last."""
    which = "last" if nth == "l" else _NTH[int(nth) - 1]
    return f"the {which} {WEEKDAYS[day]} of the month"
