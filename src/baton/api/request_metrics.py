"""Counting requests by route and status, with latency histograms, for /api/metrics."""

from __future__ import annotations

import bisect
import time
from collections import defaultdict
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baton.api.routing import route_template

# Latency buckets (seconds), Prometheus-style upper bounds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds


class RequestMetrics:
    """Owned by the app (app.state.request_metrics); updated by `RequestMetricsMiddleware`."""

    def __init__(self) -> None:
        # (method, route template, status) -> count; (method, route) -> latency histogram
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[tuple[str, str], Histogram] = defaultdict(Histogram)

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[(method, route, status)] += 1
        self.latency[(method, route)].observe(seconds)


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        noted = StatusNote(send)
        try:
            await self.app(scope, receive, noted)
        finally:
            template = route_template(scope)
            seconds = time.perf_counter() - started
            self.metrics.record(scope["method"], template, noted.status, seconds)


class StatusNote:
    """A `send` that remembers the status of the response it sent (500 until one starts:
    an app that raised answers 500)."""

    def __init__(self, send: Send) -> None:
        self.status = 500
        self._send = send

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self._send(message)
