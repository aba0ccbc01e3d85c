"""/api/metrics: Prometheus text exposition of requests, runs, workers, the database and
every background service (including how far each lags behind its interval)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import Request
from starlette.responses import Response

from baton.api.deps import DB
from baton.api.request_metrics import BUCKETS, RequestMetrics
from baton.api.routing import resource_router
from baton.clock import utcnow
from baton.core.gauges import read_gauges

router = resource_router(prefix="/metrics", tags=["operations"])
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _labels(**labels: Any) -> str:
    if not labels:
        return ""
    parts = []
    for key, value in labels.items():
        text = str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        parts.append(f'{key}="{text}"')
    return "{" + ",".join(parts) + "}"


class Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]

    def sample(self, name: str, value: float, **labels: Any) -> None:
        self.lines.append(f"{name}{_labels(**labels)} {value}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _requests(out: Exposition, metrics: RequestMetrics) -> None:
    out.family("baton_http_requests_total", "counter", "HTTP requests by route and status.")
    for (method, route, status), count in sorted(metrics.requests.items()):
        out.sample("baton_http_requests_total", count, method=method, route=route, status=status)
    name = "baton_http_request_duration_seconds"
    out.family(name, "histogram", "HTTP request latency by route.")
    for (method, route), hist in sorted(metrics.latency.items()):
        cumulative = 0
        for bound, count in zip([*map(str, BUCKETS), "+Inf"], hist.counts, strict=True):
            cumulative += count
            out.sample(f"{name}_bucket", cumulative, method=method, route=route, le=bound)
        out.sample(f"{name}_sum", float(hist.total), method=method, route=route)
        out.sample(f"{name}_count", cumulative, method=method, route=route)


def _services(out: Exposition, services: Iterable[Any]) -> None:
    services = list(services)
    families: list[tuple[str, str, str, Callable[[Any], float]]] = [
        ("baton_service_last_duration_seconds", "gauge", "How long the last pass took.",
         lambda s: float(s.last_duration)),
        ("baton_service_lag_seconds", "gauge",
         "How far the service is behind its interval (0 when on time).", lambda s: float(s.lag())),
        ("baton_service_interval_seconds", "gauge", "The service's interval.",
         lambda s: float(s.interval)),
        ("baton_service_passes_total", "counter", "Completed passes.", lambda s: s.passes),
        ("baton_service_items_total", "counter", "Items processed by the passes.",
         lambda s: s.items),
        ("baton_service_errors_total", "counter", "Passes that failed.", lambda s: s.failures),
    ]  # fmt: skip
    for name, kind, help_text, value in families:
        out.family(name, kind, help_text)
        for service in services:
            out.sample(name, value(service), service=service.name)


@router.get("")
async def metrics(request: Request, db: DB) -> Response:
    out = Exposition()
    _requests(out, request.app.state.request_metrics)

    gauges = await read_gauges(db, utcnow())
    out.family("baton_flow_runs", "gauge", "Flow runs by current state type.")
    for state, count in sorted(gauges.runs_by_state.items()):
        out.sample("baton_flow_runs", count, state=state)
    out.family("baton_scheduled_backlog", "gauge", "Scheduled runs that are due and not started.")
    out.sample("baton_scheduled_backlog", gauges.due_backlog)
    out.family("baton_late_runs", "gauge", "Runs marked Late.")
    out.sample("baton_late_runs", gauges.late)
    out.family("baton_workers", "gauge", "Workers by pool and status.")
    for (pool, status), count in sorted(gauges.workers.items()):
        out.sample("baton_workers", count, pool=pool, status=status)

    for key, value in db.pool_stats().items():
        out.family(f"baton_db_{key}", "gauge", f"Database: {key.replace('_', ' ')}.")
        out.sample(f"baton_db_{key}", value)
    events = request.app.state.events
    out.family("baton_events_buffered", "gauge", "Events accepted and not yet written.")
    out.sample("baton_events_buffered", events.buffered)
    out.family("baton_events_stored_total", "counter", "Events written.")
    out.sample("baton_events_stored_total", events.stored)

    services = request.app.state.services
    _services(out, services.all if services is not None else [])
    return Response(out.text(), media_type=CONTENT_TYPE)
