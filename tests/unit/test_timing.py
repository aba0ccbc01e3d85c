"""Derived run fields (compat surface §7.2)."""

from __future__ import annotations

import datetime as dt

from baton.orchestration.states import StateType
from baton.orchestration.timing import (
    Timing,
    advance,
    estimated_run_time,
    estimated_start_time_delta,
    initial_timing,
)

T0 = dt.datetime(2026, 11, 27, 12, 0, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_ad_hoc_run_lifecycle() -> None:
    timing = initial_timing(StateType.PENDING, {}, T0)
    assert timing == Timing(expected_start_time=T0)
    running = advance(timing, StateType.PENDING, T0, StateType.RUNNING, {}, at(1))
    assert (running.run_count, running.start_time) == (1, at(1))
    done = advance(running, StateType.RUNNING, at(1), StateType.COMPLETED, {}, at(3.5))
    assert done.end_time == at(3.5)
    assert done.total_run_time == 2.5
    assert done.start_time == at(1)
    assert estimated_run_time(done, StateType.COMPLETED, at(3.5), at(100)) == 2.5
    assert estimated_start_time_delta(done, StateType.COMPLETED, at(100)) == 1.0


def test_retry_sums_running_intervals_and_keeps_first_start() -> None:
    t = initial_timing(StateType.PENDING, {}, T0)
    t = advance(t, StateType.PENDING, T0, StateType.RUNNING, {}, at(1))
    retry = {"scheduled_time": "2026-11-27T12:00:04Z"}
    t = advance(t, StateType.RUNNING, at(1), StateType.SCHEDULED, retry, at(2))
    assert t.next_scheduled_start_time == at(4)
    assert t.expected_start_time == T0  # a started run keeps its expected start
    t = advance(t, StateType.SCHEDULED, at(2), StateType.RUNNING, {}, at(4))
    assert t.next_scheduled_start_time is None
    t = advance(t, StateType.RUNNING, at(4), StateType.COMPLETED, {}, at(4.5))
    assert (t.run_count, t.start_time, t.total_run_time) == (2, at(1), 1.5)


def test_scheduled_run_expects_its_scheduled_time() -> None:
    details = {"scheduled_time": "2026-11-27T13:00:00Z"}
    t = initial_timing(StateType.SCHEDULED, details, T0)
    assert t.expected_start_time == t.next_scheduled_start_time == at(3600)
    assert estimated_start_time_delta(t, StateType.SCHEDULED, at(10)) == 0.0
    assert estimated_start_time_delta(t, StateType.SCHEDULED, at(3609.45)) == 9.45


def test_scheduled_straight_to_completed() -> None:
    t = initial_timing(StateType.SCHEDULED, {"scheduled_time": "2026-11-27T12:00:00Z"}, T0)
    t = advance(t, StateType.SCHEDULED, T0, StateType.COMPLETED, {}, at(5))
    assert (t.run_count, t.start_time, t.end_time) == (0, at(5), at(5))


def test_leaving_a_terminal_state_clears_end_time() -> None:
    t = Timing(run_count=1, start_time=T0, end_time=at(1), expected_start_time=T0)
    again = advance(t, StateType.COMPLETED, at(1), StateType.RUNNING, {}, at(2))
    assert again.end_time is None
    assert again.run_count == 2


def test_running_estimate_counts_the_current_stretch() -> None:
    t = Timing(run_count=1, start_time=T0, total_run_time=1.0, expected_start_time=T0)
    assert estimated_run_time(t, StateType.RUNNING, at(2), at(5)) == 4.0
