"""The run timeline's time axis (baton.ui.charts): round steps chosen from the span, labels
precise enough to tell apart, ticks placed where their offsets are."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from baton.ui.charts import MAX_INTERVALS, TICK_STEPS, axis_ticks, timeline

T0 = dt.datetime(2026, 11, 27, 12, 0, 0, tzinfo=dt.UTC)
UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def task(start: float, end: float) -> dict[str, Any]:
    return {
        "label": "t",
        "depth": 0,
        "kind": "task",
        "state_type": "COMPLETED",
        "state_name": "Completed",
        "start_time": T0 + dt.timedelta(seconds=start),
        "end_time": T0 + dt.timedelta(seconds=end),
    }


def seconds(label: str) -> float:
    found = re.fullmatch(r"\+(\d+(?:\.\d+)?)([smhd])", label)
    assert found, label
    return float(found[1]) * UNITS[found[2]]


def test_a_short_run_has_distinct_tick_labels() -> None:
    # 0.2 s: quarters of the span at one decimal read "+0.1s" twice (and "+0.2s" twice).
    ticks = timeline([task(0, 0.2)], T0, truncated=False).ticks
    labels = [text for _, text in ticks]
    assert len(set(labels)) == len(labels), labels
    assert labels == ["12:00:00", "+0.05s", "+0.10s", "+0.15s", "+0.20s"]


SPANS = [0.001, 0.013, 0.2, 0.25, 0.37, 0.9, 1.3, 4.1, 7, 12.5, 59, 61, 95, 250, 599]
SPANS += [3599, 3601, 7300, 40_000, 86_400, 3 * 86_400, 30 * 86_400, 400 * 86_400]


@pytest.mark.parametrize("span", SPANS)
def test_ticks_are_distinct_round_and_where_their_offsets_are(span: float) -> None:
    ticks = axis_ticks(T0, span)
    labels = [text for _, text in ticks]
    assert ticks[0] == (0.0, "12:00:00")
    assert len(set(labels)) == len(labels), labels
    assert 2 <= len(ticks) <= MAX_INTERVALS + 1, labels
    offsets = [seconds(text) for text in labels[1:]]
    step = offsets[0]
    for k, (offset, (x, _)) in enumerate(zip(offsets, ticks[1:], strict=True), start=1):
        assert offset == pytest.approx(k * step)  # evenly stepped, each label exact
        assert x == pytest.approx(offset / span * 100, abs=0.01)  # drawn at its offset
        assert x <= 100.0
    assert span - offsets[-1] < step * (1 + 1e-9)  # no room left for another tick
    # The smallest round step that cuts the span into at most MAX_INTERVALS.
    smaller = [s for s in TICK_STEPS if s < step * (1 - 1e-9)]
    if smaller:
        assert span / max(smaller) > MAX_INTERVALS
