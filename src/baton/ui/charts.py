"""Geometry of the inline SVG charts: stacked bars of runs by state, and run timelines.
Pure functions; the templates only draw what these return."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from baton.ui.format import STATE_TYPES
from baton.ui.queries.dashboard import Histogram

# Bars stack in this order, bottom up: what went wrong sits on the axis, easy to see.
STACK_ORDER = (
    "FAILED",
    "CRASHED",
    "CANCELLED",
    "CANCELLING",
    "COMPLETED",
    "RUNNING",
    "PENDING",
    "PAUSED",
    "SCHEDULED",
    "NONE",
)
CHART_W, CHART_H = 720.0, 160.0


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    state: str
    title: str


@dataclass(frozen=True)
class BarChart:
    segments: list[Segment]
    ticks: list[tuple[float, str]]  # x, label
    max_count: int
    width: float = CHART_W
    height: float = CHART_H


def bar_chart(hist: Histogram) -> BarChart:
    peak = max((sum(b.values()) for b in hist.counts), default=0)
    scale = (CHART_H - 4) / peak if peak else 0.0
    slot = CHART_W / hist.buckets
    gap = min(4.0, slot * 0.2)
    segments: list[Segment] = []
    hourly = hist.width <= dt.timedelta(hours=1)
    for i, bucket in enumerate(hist.counts):
        start = hist.start + i * hist.width
        label = f"{start:%H:%M}" if hourly else f"{start:%a %H:%M}"
        y = CHART_H
        for state in STACK_ORDER:
            n = bucket.get(state, 0)
            if not n:
                continue
            h = max(n * scale, 1.0)
            y -= h
            segments.append(
                Segment(
                    x=round(i * slot + gap / 2, 2),
                    y=round(y, 2),
                    width=round(slot - gap, 2),
                    height=round(h, 2),
                    state=state.lower(),
                    title=f"{label} UTC: {n} {state.lower()}",
                )
            )
    every = max(1, hist.buckets // 6)
    ticks = []
    for i in range(0, hist.buckets, every):
        start = hist.start + i * hist.width
        ticks.append((round(i * slot, 2), f"{start:%H:%M}" if hourly else f"{start:%a %H:%M}"))
    return BarChart(segments, ticks, peak)


@dataclass(frozen=True)
class TimelineRow:
    label: str
    depth: int
    state_type: str | None
    state_name: str | None
    x: float  # percent of the width
    width: float  # percent
    title: str
    href: str | None
    kind: str  # "task" or "flow"


@dataclass(frozen=True)
class Timeline:
    rows: list[TimelineRow]
    start: dt.datetime | None
    end: dt.datetime | None
    ticks: list[tuple[float, str]]
    truncated: bool

    @property
    def height(self) -> int:
        return 24 * len(self.rows) + 4


def _span(item: dict[str, Any], now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    begin = item.get("start_time") or item.get("expected_start_time") or item.get("created")
    if begin is None:
        return None
    end = item.get("end_time")
    if end is None:
        running = item.get("state_type") in ("RUNNING", "CANCELLING", "PENDING", "PAUSED")
        end = now if running else begin
    return begin, max(end, begin)


def timeline(items: list[dict[str, Any]], now: dt.datetime, truncated: bool) -> Timeline:
    """Rows (already in display order, with `depth`, `label`, `href`, `kind`) → bars
    positioned in percent of the time between the first start and the last end."""
    spans = [_span(item, now) for item in items]
    known = [s for s in spans if s is not None]
    if not known:
        return Timeline([], None, None, [], truncated)
    t0 = min(s[0] for s in known)
    t1 = max(s[1] for s in known)
    total = max((t1 - t0).total_seconds(), 0.001)
    rows = []
    for item, span in zip(items, spans, strict=True):
        if span is None:
            x = w = 0.0
            seconds = 0.0
        else:
            x = (span[0] - t0).total_seconds() / total * 100
            seconds = (span[1] - span[0]).total_seconds()
            w = max(seconds / total * 100, 0.4)
            x = min(x, 100 - w)
        rows.append(
            TimelineRow(
                label=item["label"],
                depth=item["depth"],
                state_type=item.get("state_type"),
                state_name=item.get("state_name"),
                x=round(x, 3),
                width=round(w, 3),
                title=f"{item['label']}: {item.get('state_name') or 'no state'}, {seconds:.1f}s",
                href=item.get("href"),
                kind=item["kind"],
            )
        )
    return Timeline(rows, t0, t1, axis_ticks(t0, total), truncated)


# Tick steps in seconds, smallest first: 1-2-5 steps below a minute, then whole minutes and
# hours. The axis takes the smallest one that cuts the span into at most MAX_INTERVALS.
_SECOND_STEPS = sorted([m * 10.0**e for e in range(-3, 1) for m in (1, 2, 5)] + [10.0, 15.0, 30.0])
_MINUTE_STEPS = [60.0 * m for m in (1, 2, 5, 10, 15, 30)]
_HOUR_STEPS = [3600.0 * h for h in (1, 2, 3, 6, 12, 24, 48)]
TICK_STEPS = _SECOND_STEPS + _MINUTE_STEPS + _HOUR_STEPS
MAX_INTERVALS = 4


def axis_ticks(t0: dt.datetime, total: float) -> list[tuple[float, str]]:
    """(x in percent, label) of the time axis over `total` seconds from `t0`: the start's
    clock time, then offsets at a round step chosen from the span (so at least a quarter of
    the width apart), labelled in the step's unit with as many decimals as the step needs,
    so no two labels are the same."""
    step = next((s for s in TICK_STEPS if total / s <= MAX_INTERVALS + 1e-9), None)
    if step is None:  # longer than MAX_INTERVALS times the largest step: days
        step = 86400.0 * math.ceil(total / 86400 / MAX_INTERVALS)
    ticks = [(0.0, f"{t0:%H:%M:%S}")]
    k = 1
    while k * step <= total * (1 + 1e-9):
        ticks.append((round(k * step / total * 100, 3), _offset_label(k * step, step)))
        k += 1
    return ticks


def _offset_label(offset: float, step: float) -> str:
    if step < 60:
        decimals = max(0, -math.floor(math.log10(step) + 1e-9))
        return f"+{offset:.{decimals}f}s"
    if step < 3600:
        return f"+{round(offset / 60)}m"
    if step < 86400 or step % 86400:
        return f"+{round(offset / 3600)}h"
    return f"+{round(offset / 86400)}d"


def legend() -> list[str]:
    return [s.lower() for s in STATE_TYPES]
