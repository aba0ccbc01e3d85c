"""Realistic data for the UI tests, made over the HTTP API with the bodies the Prefect client
sends: a work pool with a worker, a deployment with a schedule and a parameter schema, runs
in several states with task runs, a subflow, logs, artifacts, a variable; and one run whose
name is hostile HTML."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

HOSTILE = "<script>alert('pwned')</script>"
POOL = "ui-pool"
REPORT = f"# Report\n\nRows: **7**\n\n{HOSTILE}\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
PARAMETER_SCHEMA: dict[str, Any] = {
    "title": "Parameters",
    "type": "object",
    "properties": {
        "n": {"title": "n", "position": 0, "type": "integer", "description": "How many rows"},
        "label": {"title": "label", "position": 1, "type": "string", "default": "x"},
        "mode": {"title": "mode", "position": 2, "allOf": [{"$ref": "#/definitions/Mode"}]},
        "extra": {"title": "extra", "position": 3, "type": "object"},
    },
    "required": ["n"],
    "definitions": {"Mode": {"title": "Mode", "enum": ["fast", "slow"], "type": "string"}},
}


@dataclass
class Seeded:
    flow_id: str
    deployment_id: str
    running_id: str  # the hostile-named run, RUNNING, with task runs, a subflow and logs
    failed_id: str
    completed_id: str
    subflow_id: str
    artifact_id: str
    variable_id: str


def state(kind: str, name: str | None = None, message: str | None = None) -> dict[str, Any]:
    return {
        "type": kind,
        "name": name,
        "message": message,
        "state_details": {"transition_id": str(uuid.uuid4())},
        "data": None,
    }


async def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


async def set_run_state(
    client: httpx.AsyncClient, run_id: str, kind: str, message: str | None = None
) -> None:
    body = {"state": state(kind, message=message), "force": False}
    await ok(await client.post(f"/api/flow_runs/{run_id}/set_state", json=body))


async def task_run(
    client: httpx.AsyncClient, flow_run_id: str, name: str, key: str, states: list[str]
) -> str:
    body = {
        "name": name,
        "flow_run_id": flow_run_id,
        "task_key": key,
        "dynamic_key": "0",
        "cache_key": None,
        "cache_expiration": None,
        "task_version": None,
        "empirical_policy": {"retries": 0, "retry_delay": 0},
        "tags": [],
        "labels": {},
        "task_inputs": {},
        "state": state("PENDING"),
    }
    run = await ok(await client.post("/api/task_runs/", json=body))
    for kind in states:
        body = {"state": state(kind), "force": False}
        await ok(await client.post(f"/api/task_runs/{run['id']}/set_state", json=body))
    return str(run["id"])


async def flow_run(
    client: httpx.AsyncClient, flow_id: str, name: str, **extra: Any
) -> dict[str, Any]:
    body = {
        "state": state("PENDING"),
        "name": name,
        "flow_id": flow_id,
        "flow_version": "abc123",
        "parameters": {"n": 1},
        "context": {},
        "parent_task_run_id": None,
        "empirical_policy": {"retries": 0, "retry_delay": 0},
        "tags": ["ui-test"],
        **extra,
    }
    run: dict[str, Any] = await ok(await client.post("/api/flow_runs/", json=body))
    return run


async def logs(client: httpx.AsyncClient, run_id: str, *lines: tuple[int, str]) -> None:
    now = dt.datetime.now(dt.UTC)
    body = [
        {
            "name": "prefect.flow_runs",
            "level": level,
            "message": message,
            "timestamp": (now + dt.timedelta(milliseconds=i)).isoformat(),
            "flow_run_id": run_id,
            "task_run_id": None,
        }
        for i, (level, message) in enumerate(lines)
    ]
    await ok(await client.post("/api/logs/", json=body))


async def seed(client: httpx.AsyncClient) -> Seeded:
    pool = {
        "name": POOL,
        "type": "process",
        "base_job_template": {"job_configuration": {}, "variables": {"properties": {}}},
        "is_paused": False,
        "concurrency_limit": 5,
    }
    await ok(await client.post("/api/work_pools/", json=pool))
    heartbeat = {"name": "worker-1", "heartbeat_interval_seconds": 30}
    await ok(await client.post(f"/api/work_pools/{POOL}/workers/heartbeat", json=heartbeat))
    flow = await ok(
        await client.post("/api/flows/", json={"name": "etl-flow", "tags": [], "labels": {}})
    )
    deployment = await ok(
        await client.post(
            "/api/deployments/",
            json={
                "name": "nightly",
                "flow_id": flow["id"],
                "paused": False,
                "schedules": [
                    {
                        "schedule": {"cron": "0 9 * * *", "timezone": "America/New_York"},
                        "active": True,
                        "max_scheduled_runs": None,
                        "parameters": {},
                        "slug": None,
                    }
                ],
                "parameter_openapi_schema": PARAMETER_SCHEMA,
                "enforce_parameter_schema": True,
                "parameters": {"n": 5},
                "tags": ["nightly"],
                "labels": {},
                "work_pool_name": POOL,
                "work_queue_name": None,
                "job_variables": {},
                "concurrency_limit": 2,
                "description": "Loads the <b>nightly</b> batch",
                "entrypoint": "flows/etl.py:etl",
                "version": "v1",
            },
        )
    )
    dep_id = deployment["id"]

    running = await ok(
        await client.post(
            f"/api/deployments/{dep_id}/create_flow_run",
            json={"name": HOSTILE, "parameters": {"n": 7}, "state": state("PENDING")},
        )
    )
    await set_run_state(client, running["id"], "RUNNING")
    await task_run(client, running["id"], "extract-0", "extract-1", ["RUNNING", "COMPLETED"])
    await task_run(client, running["id"], "transform-0", "transform-1", ["RUNNING"])
    placeholder = await task_run(client, running["id"], "child-flow-0", "child-1", ["RUNNING"])
    subflow = await flow_run(client, flow["id"], "child-subflow", parent_task_run_id=placeholder)
    await set_run_state(client, subflow["id"], "RUNNING")
    await task_run(client, subflow["id"], "inner-task-0", "inner-1", ["RUNNING", "COMPLETED"])
    await logs(
        client,
        running["id"],
        (20, "hello from the flow"),
        (10, "debug chatter"),
        (40, "boom <b>not bold</b>"),
    )

    failed = await flow_run(client, flow["id"], "failing-run")
    await set_run_state(client, failed["id"], "RUNNING")
    await set_run_state(client, failed["id"], "FAILED", message="ValueError: bad row")
    completed = await flow_run(client, flow["id"], "finished-run", tags=["ui-test", "blue"])
    await set_run_state(client, completed["id"], "RUNNING")
    await set_run_state(client, completed["id"], "COMPLETED")

    artifact = await ok(
        await client.post(
            "/api/artifacts/",
            json={
                "key": "report",
                "type": "markdown",
                "description": "Nightly report",
                "data": REPORT,
                "flow_run_id": running["id"],
            },
        )
    )
    await ok(
        await client.post(
            "/api/artifacts/",
            json={
                "key": "rows",
                "type": "table",
                "data": [{"city": "Oslo", "rows": 3}, {"city": "Lima", "rows": 4}],
                "flow_run_id": running["id"],
            },
        )
    )
    limit = {"name": "warehouse-writes", "limit": 3, "active": True}
    await ok(await client.post("/api/v2/concurrency_limits/", json=limit))
    variable = await ok(
        await client.post(
            "/api/variables/", json={"name": "batch_size", "value": {"rows": 500}, "tags": ["etl"]}
        )
    )
    return Seeded(
        flow_id=flow["id"],
        deployment_id=dep_id,
        running_id=running["id"],
        failed_id=failed["id"],
        completed_id=completed["id"],
        subflow_id=subflow["id"],
        artifact_id=artifact["id"],
        variable_id=variable["id"],
    )
