"""Jinja filters: times, durations, states, JSON and log levels as the pages show them."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import orjson

# Each state type's CSS class suffix; "late" is a Scheduled run past its start.
STATE_TYPES = (
    "SCHEDULED",
    "PENDING",
    "RUNNING",
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "CRASHED",
    "PAUSED",
    "CANCELLING",
)
# What the UI offers to cancel.
CANCELLABLE = ("SCHEDULED", "PENDING", "RUNNING", "PAUSED")
ACTIVE_TYPES = frozenset({"SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING"})
LEVELS = (
    (logging.DEBUG, "DEBUG"),
    (logging.INFO, "INFO"),
    (logging.WARNING, "WARNING"),
    (logging.ERROR, "ERROR"),
    (logging.CRITICAL, "CRITICAL"),
)


def when(value: dt.datetime | None) -> str:
    """A UTC time as the pages print it (the browser's script shows it in local time)."""
    if value is None:
        return "—"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def iso(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def duration(seconds: float | None) -> str:
    """1.2s, 3m 05s, 2h 07m, 3d 4h."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    whole = int(seconds)
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def state_class(state_type: str | None, state_name: str | None = None) -> str:
    if state_type == "SCHEDULED" and state_name == "Late":
        return "st-late"
    return f"st-{(state_type or 'none').lower()}"


def pretty_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def compact_json(value: Any) -> str:
    return orjson.dumps(value).decode()


def level_name(level: int) -> str:
    name = logging.getLevelName(level)
    return name if isinstance(name, str) and not name.startswith("Level ") else str(level)


def level_class(level: int) -> str:
    if level >= logging.ERROR:
        return "lv-error"
    if level >= logging.WARNING:
        return "lv-warning"
    if level >= logging.INFO:
        return "lv-info"
    return "lv-debug"


def short_id(value: uuid.UUID | str | None) -> str:
    return str(value)[:8] if value else ""


def number(value: int) -> str:
    return f"{value:,}"


FILTERS = {
    "when": when,
    "iso": iso,
    "duration": duration,
    "state_class": state_class,
    "pretty_json": pretty_json,
    "compact_json": compact_json,
    "level_name": level_name,
    "level_class": level_class,
    "short_id": short_id,
    "number": number,
}
