"""Shared pieces of the CLI's output: tables, JSON, times, durations and state colours.

Times arrive from the API as ISO 8601 in UTC and are shown in the local time zone, to the
second; JSON output passes them through unchanged so scripts get the exact value.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from baton.cli.output import out

_STATE_STYLES = {
    "COMPLETED": "green",
    "FAILED": "red",
    "CRASHED": "bold red",
    "RUNNING": "blue",
    "PENDING": "cyan",
    "SCHEDULED": "yellow",
    "PAUSED": "magenta",
    "CANCELLING": "magenta",
    "CANCELLED": "bright_black",
}

_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_SPAN_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def print_json(value: Any) -> None:
    """JSON on stdout, bypassing rich so nothing is wrapped, coloured or re-interpreted."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_json_line(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def table(*headers: str) -> Table:
    # No vertical rules: rows stay easy to grep and cut.
    return Table(
        *headers, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold"
    )


def add_row(grid: Table, *cells: str | Text) -> None:
    """A table row; plain strings are shown as they are, never read as rich markup (a flow
    name may well contain [brackets])."""
    grid.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in cells))


def say(message: str) -> None:
    """One line of result on stdout, printed literally."""
    out.print(Text(message), soft_wrap=True)


def show(renderable: RenderableType) -> None:
    """Print to stdout; when piped, at full width (rows never wrap) without trailing blanks."""
    if out.is_terminal:
        out.print(renderable)
        return
    with out.capture() as captured:
        out.print(renderable, width=10_000, crop=False)
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def parse_api_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def local_time(value: Any) -> str:
    """An API timestamp as `YYYY-MM-DD HH:MM:SS` in the local time zone ("-" when absent)."""
    moment = parse_api_time(value)
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def api_time(moment: dt.datetime) -> str:
    """A moment as the API takes it: ISO 8601 in UTC."""
    return moment.astimezone(dt.UTC).isoformat()


def duration(seconds: Any) -> str:
    """`0.4s`, `12s`, `3m 05s`, `2h 10m`, `3d 04h`; "-" when unknown."""
    if not isinstance(seconds, int | float) or seconds < 0:
        return "-"
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def parse_since(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """`30s`, `30m`, `1h`, `2d`, `1w` (also combined, `1h30m`) ago, or an ISO 8601 date or
    time (local time when it has no offset). Raises ValueError saying what is accepted."""
    raw = text.strip().lower()
    now = now or dt.datetime.now(dt.UTC)
    if raw and _SPAN.sub("", raw).strip() == "":
        seconds = sum(float(n) * _SPAN_SECONDS[unit] for n, unit in _SPAN.findall(raw))
        return now - dt.timedelta(seconds=seconds)
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a span like 30m, 1h, 2d or 1w nor an ISO 8601 time "
            "like 2026-11-27T05:00 or 2026-11-27T05:00:00+00:00"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()  # naive: local time


def state_text(state_type: Any, state_name: Any) -> tuple[str, str]:
    """(label, style) of a run's state: its name, coloured by its type."""
    name = str(state_name or state_type or "-")
    return name, _STATE_STYLES.get(str(state_type), "")


def pick(record: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {key: record.get(key) for key in keys}
