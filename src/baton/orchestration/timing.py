"""Derived run fields: what writing a state does to run_count, start/end and run time, and
the estimates computed when a run is read. Pure: no I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from baton.orchestration.rules import parse_time
from baton.orchestration.states import TERMINAL, StateType


@dataclass(frozen=True)
class Timing:
    run_count: int = 0
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total_run_time: float = 0.0
    expected_start_time: dt.datetime | None = None
    next_scheduled_start_time: dt.datetime | None = None


def initial_timing(state_type: StateType, details: dict[str, object], now: dt.datetime) -> Timing:
    """A new run: expected to start at its scheduled time, or now."""
    scheduled = parse_time(details.get("scheduled_time"))
    if state_type == StateType.SCHEDULED and scheduled is not None:
        return Timing(expected_start_time=scheduled, next_scheduled_start_time=scheduled)
    return advance(Timing(expected_start_time=now), None, None, state_type, details, now)


def advance(
    timing: Timing,
    previous_type: StateType | None,
    previous_at: dt.datetime | None,
    new_type: StateType,
    new_details: dict[str, object],
    now: dt.datetime,
) -> Timing:
    """The run's timing after a state of `new_type` is written at `now`."""
    changes: dict[str, object] = {}
    if previous_type == StateType.RUNNING and previous_at is not None:
        changes["total_run_time"] = timing.total_run_time + max(
            0.0, (now - previous_at).total_seconds()
        )
    if new_type == StateType.RUNNING:
        changes["run_count"] = timing.run_count + 1
        if timing.start_time is None:
            changes["start_time"] = now
    if new_type in TERMINAL:
        changes["end_time"] = now
        if timing.start_time is None:  # finished without running: it started as it ended
            changes["start_time"] = now
    elif timing.end_time is not None:
        changes["end_time"] = None  # leaving a terminal state: the run is live again
    scheduled = parse_time(new_details.get("scheduled_time"))
    if new_type == StateType.SCHEDULED and scheduled is not None:
        changes["next_scheduled_start_time"] = scheduled
        if timing.start_time is None:
            changes["expected_start_time"] = scheduled
    else:
        changes["next_scheduled_start_time"] = None
    return replace(timing, **changes)  # type: ignore[arg-type]


def estimated_run_time(
    timing: Timing, state_type: StateType | None, state_at: dt.datetime | None, now: dt.datetime
) -> float:
    """Run time so far, counting the current RUNNING stretch."""
    if state_type == StateType.RUNNING and state_at is not None:
        return timing.total_run_time + max(0.0, (now - state_at).total_seconds())
    return timing.total_run_time


def estimated_start_time_delta(
    timing: Timing, state_type: StateType | None, now: dt.datetime
) -> float:
    """How late the run started, or how late it is so far if it has not."""
    expected = timing.expected_start_time
    if expected is None:
        return 0.0
    if timing.start_time is not None:
        return max(0.0, (timing.start_time - expected).total_seconds())
    if state_type in (StateType.SCHEDULED, StateType.PENDING, None) and expected < now:
        return (now - expected).total_seconds()
    return 0.0
