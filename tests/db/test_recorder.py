"""The task-run recorder turns task-run events (compat surface §4.4, §4.6) into task runs."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from baton.core.task_run_recorder import record_task_runs

T0 = dt.datetime(2026, 11, 26, 22, 58, 52, 143505, tzinfo=dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def task_event(
    flow_run_id: str,
    task_run_id: str,
    kind: str,
    name: str,
    offset: float,
    run_count: int,
    follows: str | None = None,
    **task_fields: Any,
) -> dict[str, Any]:
    occurred = T0 + dt.timedelta(seconds=offset)
    details = task_fields.pop("details", {})
    return {
        "occurred": occurred,
        "event": f"prefect.task-run.{name}",
        "resource": {
            "prefect.resource.id": f"prefect.task-run.{task_run_id}",
            "prefect.resource.name": "add-352",
            "prefect.run-count": str(run_count),
            "prefect.state-name": name,
            "prefect.state-type": kind,
            "prefect.orchestration": "client",
        },
        "related": [
            {
                "prefect.resource.id": f"prefect.flow-run.{flow_run_id}",
                "prefect.resource.role": "flow-run",
                "prefect.resource.name": "positive-hawk",
            },
            {
                "prefect.resource.id": f"prefect.flow.{uuid.uuid4()}",
                "prefect.resource.role": "flow",
                "prefect.resource.name": "my-flow",
            },
        ],
        "payload": {
            "intended": {"from": None, "to": kind},
            "initial_state": None,
            "validated_state": {
                "type": kind,
                "name": name,
                "message": "",
                "state_details": details,
                "data": None,
            },
            "task_run": {
                "name": "add-352",
                "task_key": "add-e38f479a",
                "dynamic_key": "35293ac4",
                "empirical_policy": {
                    "max_retries": 0,
                    "retry_delay_seconds": 0.0,
                    "retries": 1,
                    "retry_delay": 1,
                },
                "tags": [],
                "labels": {},
                "task_inputs": {"x": [], "y": []},
                "run_count": run_count,
                "flow_run_run_count": 1,
                "expected_start_time": iso(T0),
                "total_run_time": 0.0,
                **task_fields,
            },
        },
        "id": uuid.uuid4(),
        "follows": follows,
    }


@pytest.fixture
async def flow_run_id(client: httpx.AsyncClient) -> str:
    flow = (await client.post("/api/flows/", json={"name": "my-flow"})).json()
    run = (await client.post("/api/flow_runs/", json={"flow_id": flow["id"]})).json()
    return str(run["id"])


def retried_task(flow_run_id: str, task_run_id: str) -> list[dict[str, Any]]:
    start = iso(T0 + dt.timedelta(milliseconds=1))
    return [
        task_event(flow_run_id, task_run_id, "PENDING", "Pending", 0, 0),
        task_event(flow_run_id, task_run_id, "RUNNING", "Running", 0.001, 1, start_time=start),
        task_event(
            flow_run_id,
            task_run_id,
            "SCHEDULED",
            "AwaitingRetry",
            0.006,
            1,
            start_time=start,
            total_run_time=0.005,
            details={"scheduled_time": iso(T0 + dt.timedelta(seconds=1))},
        ),
        task_event(
            flow_run_id,
            task_run_id,
            "RUNNING",
            "Retrying",
            1.0,
            2,
            start_time=start,
            total_run_time=0.005,
        ),
        task_event(
            flow_run_id,
            task_run_id,
            "COMPLETED",
            "Completed",
            1.003,
            2,
            start_time=start,
            end_time=iso(T0 + dt.timedelta(seconds=1.003)),
            total_run_time=0.008,
        ),
    ]


async def _record(app: FastAPI, events: list[dict[str, Any]]) -> None:
    def job(conn: sa.Connection) -> None:
        record_task_runs(conn, events)

    await app.state.db.write(job)


@pytest.mark.parametrize("batches", ["one", "each", "shuffled", "reversed"])
async def test_task_run_from_events(
    app: FastAPI, client: httpx.AsyncClient, flow_run_id: str, batches: str
) -> None:
    task_run_id = str(uuid.uuid4())
    events = retried_task(flow_run_id, task_run_id)
    if batches == "one":
        await _record(app, events)
    else:
        order = list(events)
        if batches == "shuffled":
            random.Random(7).shuffle(order)
        elif batches == "reversed":
            order.reverse()
        for event in order:
            await _record(app, [event])
    await _record(app, events[:2])  # re-sent events change nothing

    run = (await client.get(f"/api/task_runs/{task_run_id}")).json()
    assert run["flow_run_id"] == flow_run_id
    assert (run["name"], run["task_key"], run["dynamic_key"]) == (
        "add-352",
        "add-e38f479a",
        "35293ac4",
    )
    assert (run["state_type"], run["state_name"]) == ("COMPLETED", "Completed")
    assert run["state"]["id"] == str(events[-1]["id"])
    assert run["state"]["timestamp"] == iso(events[-1]["occurred"])
    assert run["state"]["state_details"]["task_run_id"] == task_run_id
    assert run["state"]["state_details"]["flow_run_id"] == flow_run_id
    assert run["run_count"] == 2
    assert run["start_time"] == iso(T0 + dt.timedelta(milliseconds=1))
    assert run["total_run_time"] == 0.008
    assert run["estimated_run_time"] == 0.008
    assert run["empirical_policy"]["retry_jitter_factor"] is None
    assert run["labels"] == {}

    states = (await client.get("/api/task_run_states/", params={"task_run_id": task_run_id})).json()
    assert [(s["type"], s["name"]) for s in states] == [
        ("PENDING", "Pending"),
        ("RUNNING", "Running"),
        ("SCHEDULED", "AwaitingRetry"),
        ("RUNNING", "Retrying"),
        ("COMPLETED", "Completed"),
    ]
    assert states[2]["state_details"]["scheduled_time"] is not None
    listed = await client.post(
        "/api/task_runs/filter", json={"flow_runs": {"id": {"any_": [flow_run_id]}}}
    )
    assert [r["id"] for r in listed.json()] == [task_run_id]


async def test_events_for_unknown_flow_runs_are_dropped(
    app: FastAPI, client: httpx.AsyncClient, flow_run_id: str
) -> None:
    kept, dropped = str(uuid.uuid4()), str(uuid.uuid4())
    await _record(
        app,
        [
            task_event(flow_run_id, kept, "PENDING", "Pending", 0, 0),
            task_event(str(uuid.uuid4()), dropped, "PENDING", "Pending", 0, 0),
        ],
    )
    assert (await client.get(f"/api/task_runs/{kept}")).status_code == 200
    assert (await client.get(f"/api/task_runs/{dropped}")).status_code == 404


async def test_a_thousand_tasks_in_one_batch(
    app: FastAPI, client: httpx.AsyncClient, flow_run_id: str
) -> None:
    events = []
    for i in range(1000):
        task_run_id = str(uuid.uuid4())
        events += [
            task_event(flow_run_id, task_run_id, kind, name, offset, count, dynamic_key=str(i))
            for kind, name, offset, count in (
                ("PENDING", "Pending", 0, 0),
                ("RUNNING", "Running", 0.001, 1),
                ("COMPLETED", "Completed", 0.002, 1),
            )
        ]
    await _record(app, events)
    count = await client.post(
        "/api/task_runs/count",
        json={
            "task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
            "flow_runs": {"id": {"any_": [flow_run_id]}},
        },
    )
    assert count.json() == 1000
