"""/api/metrics, read with Prometheus's own text parser."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from baton.clock import utcnow
from baton.services import Services
from tests.api.test_flow_runs import make_flow, make_run, set_state


async def scrape(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def samples(family: Any, name: str | None = None, **labels: str) -> list[float]:
    return [
        s.value
        for s in family.samples
        if (name is None or s.name == name) and all(s.labels.get(k) == v for k, v in labels.items())
    ]


async def test_requests_runs_and_database(client: httpx.AsyncClient, app: FastAPI) -> None:
    flow_id = await make_flow(client)
    run = await make_run(client, flow_id)
    await set_state(client, run["id"], "RUNNING")
    past = (utcnow() - dt.timedelta(minutes=1)).isoformat()
    await make_run(
        client, flow_id, state={"type": "SCHEDULED", "state_details": {"scheduled_time": past}}
    )
    await client.get("/api/flow_runs/00000000-0000-0000-0000-000000000000")  # a 404

    metrics = await scrape(client)
    requests = metrics["baton_http_requests"]  # the parser drops the _total suffix
    route = "/api/flow_runs/{run_id}"
    assert samples(requests, method="GET", route=route, status="404") == [1.0]
    assert samples(requests, method="POST", route="/api/flow_runs/", status="201") == [2.0]
    latency = metrics["baton_http_request_duration_seconds"]
    count = samples(latency, "baton_http_request_duration_seconds_count", method="GET", route=route)
    assert count == [1.0]
    inf = samples(latency, "baton_http_request_duration_seconds_bucket", route=route, le="+Inf")
    assert inf == [1.0]

    assert samples(metrics["baton_flow_runs"], state="RUNNING") == [1.0]
    assert samples(metrics["baton_flow_runs"], state="SCHEDULED") == [1.0]
    assert samples(metrics["baton_scheduled_backlog"]) == [1.0]
    assert samples(metrics["baton_late_runs"]) == [0.0]
    assert samples(metrics["baton_db_connections_in_use"])[0] >= 0
    assert "baton_events_buffered" in metrics


async def test_services_report_their_lag(client: httpx.AsyncClient, app: FastAPI) -> None:
    settings = app.state.settings.with_overrides(scheduler_interval=0.05)
    services = Services(settings, app.state.db, app.state.events.bus)
    app.state.services = services
    services.start()
    try:
        for _ in range(100):
            if services.scheduler.passes >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await services.stop()
    metrics = await scrape(client)
    passes = samples(metrics["baton_service_passes"], service="scheduler")
    assert passes[0] >= 2
    assert samples(metrics["baton_service_errors"], service="scheduler") == [0.0]
    assert samples(metrics["baton_service_interval_seconds"], service="retention") == [600.0]
    lag = samples(metrics["baton_service_lag_seconds"], service="retention")
    assert lag == [0.0]  # its first pass just ran; the next is 10 minutes away
    # Stopped, the scheduler falls behind its 0.05 s interval: the lag shows it.
    await asyncio.sleep(0.2)
    behind = samples((await scrape(client))["baton_service_lag_seconds"], service="scheduler")
    assert behind[0] > 0.1
