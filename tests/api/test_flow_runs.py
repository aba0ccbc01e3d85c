"""Flow runs over HTTP with the bodies the Prefect 3.9.1 client sends (compat surface S1, S2)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from baton.db import tables as t
from baton.schemas.filters import FlowRunSort, TaskRunSort
from tests.api.test_error_shape import assert_error

FLOW_RUN_KEYS = {
    "id",
    "created",
    "updated",
    "name",
    "flow_id",
    "state_id",
    "deployment_id",
    "deployment_version",
    "work_queue_id",
    "work_queue_name",
    "flow_version",
    "parameters",
    "idempotency_key",
    "context",
    "empirical_policy",
    "tags",
    "labels",
    "parent_task_run_id",
    "state_type",
    "state_name",
    "run_count",
    "expected_start_time",
    "next_scheduled_start_time",
    "start_time",
    "end_time",
    "total_run_time",
    "estimated_run_time",
    "estimated_start_time_delta",
    "auto_scheduled",
    "infrastructure_document_id",
    "infrastructure_pid",
    "created_by",
    "work_pool_id",
    "work_pool_name",
    "state",
    "job_variables",
}
DETAIL_KEYS = 18


def pending(**details: Any) -> dict[str, Any]:
    return {
        "type": "PENDING",
        "name": "Pending",
        "message": "",
        "state_details": {"traceparent": None, **details},
        "data": None,
    }


async def make_flow(client: httpx.AsyncClient, name: str = "my-flow") -> str:
    response = await client.post("/api/flows/", json={"name": name, "tags": [], "labels": {}})
    flow_id: str = response.json()["id"]
    return flow_id


async def make_run(client: httpx.AsyncClient, flow_id: str, **extra: Any) -> dict[str, Any]:
    body = {
        "state": pending(),
        "name": None,
        "flow_id": flow_id,
        "flow_version": "abc123",
        "parameters": {"a": 3, "b": 4, "name": "cap"},
        "context": {},
        "parent_task_run_id": None,
        "empirical_policy": {"retries": 0, "retry_delay": 0},
        "tags": [],
        **extra,
    }
    response = await client.post("/api/flow_runs/", json=body)
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


async def set_state(
    client: httpx.AsyncClient, run_id: str, kind: str, name: str | None = None, **kw: Any
) -> httpx.Response:
    state = {
        "type": kind,
        "name": name,
        "message": kw.pop("message", None),
        "state_details": {"transition_id": str(uuid.uuid4()), **kw.pop("details", {})},
        "data": kw.pop("data", None),
    }
    return await client.post(
        f"/api/flow_runs/{run_id}/set_state", json={"state": state, "force": kw.pop("force", False)}
    )


async def test_create_names_labels_and_shapes(client: httpx.AsyncClient, app: FastAPI) -> None:
    flow_id = await make_flow(client)
    run = await make_run(client, flow_id)
    assert set(run) == FLOW_RUN_KEYS
    assert re.fullmatch(r"[a-z]+-[a-z]+", run["name"])
    assert run["labels"] == {"prefect.flow.id": flow_id}
    assert run["state"]["type"] == "PENDING"
    assert len(run["state"]["state_details"]) == DETAIL_KEYS
    assert run["state"]["state_details"]["flow_run_id"] == run["id"]
    assert run["expected_start_time"] == run["created"]
    assert (run["run_count"], run["start_time"], run["end_time"]) == (0, None, None)
    assert run["empirical_policy"]["retries"] == 0
    assert uuid.UUID(run["id"]).version == 7

    async with app.state.db.read() as conn:
        stored = (await conn.execute(sa.select(t.flow_run))).mappings().one()
        history = (await conn.execute(sa.select(t.flow_run_state))).mappings().all()
    assert str(stored["id"]) == run["id"]
    assert stored["parameters"] == {"a": 3, "b": 4, "name": "cap"}
    assert [h["type"] for h in history] == ["PENDING"]

    named = await make_run(client, flow_id, name="my-name")
    assert named["name"] == "my-name"


async def test_read_patch_labels_delete(client: httpx.AsyncClient) -> None:
    run = await make_run(client, await make_flow(client))
    url = f"/api/flow_runs/{run['id']}"
    read = (await client.get(url)).json()
    live = "estimated_start_time_delta"  # grows while the run waits
    assert {k: v for k, v in read.items() if k != live} == {
        k: v for k, v in run.items() if k != live
    }

    policy = {
        "max_retries": 0,
        "retry_delay_seconds": 0.0,
        "retries": 0,
        "retry_delay": 0,
        "pause_keys": [],
        "resuming": False,
        "retry_type": None,
    }
    patched = await client.patch(url, json={"flow_version": "v2", "empirical_policy": policy})
    assert patched.status_code == 204
    assert (await client.patch(url, json={"infrastructure_pid": "4242"})).status_code == 204
    labels = {
        "prefect.worker.name": "w1",
        "prefect.worker.type": "process",
        "prefect.work-pool.name": "p1",
        "prefect.work-pool.id": str(uuid.uuid4()),
    }
    assert (await client.patch(f"{url}/labels", json=labels)).status_code == 204
    after = (await client.get(url)).json()
    assert after["flow_version"] == "v2"
    assert after["infrastructure_pid"] == "4242"
    assert after["labels"] == {**run["labels"], **labels}

    assert (await client.delete(url)).status_code == 204
    assert_error(await client.get(url), 404, "not_found")
    assert_error(await client.delete(url), 404, "not_found")
    assert_error(await client.patch(url, json={}), 404, "not_found")
    assert_error(await client.patch(f"{url}/labels", json={"a": "b"}), 404, "not_found")


async def test_unknown_run_and_flow(client: httpx.AsyncClient) -> None:
    missing = str(uuid.uuid4())
    body = assert_error(await client.get(f"/api/flow_runs/{missing}"), 404, "not_found")
    assert body["detail"] == "Flow run not found"
    assert_error(await set_state(client, missing, "RUNNING"), 404, "not_found")
    response = await client.post("/api/flow_runs/", json={"flow_id": missing})
    body = assert_error(response, 422, "invalid")
    assert body["errors"][0]["loc"] == "body.flow_id"


async def test_run_lifecycle_and_history(client: httpx.AsyncClient) -> None:
    run = await make_run(client, await make_flow(client))
    running = await set_state(client, run["id"], "RUNNING")
    assert running.status_code == 201
    result = running.json()
    assert result["status"] == "ACCEPT"
    assert result["details"] == {"type": "accept_details"}
    assert result["state"]["type"] == "RUNNING"
    assert result["state"]["name"] == "Running"
    assert len(result["state"]["state_details"]) == DETAIL_KEYS

    done = await set_state(client, run["id"], "COMPLETED", details={"untrackable_result": True})
    assert done.status_code == 201
    final = (await client.get(f"/api/flow_runs/{run['id']}")).json()
    assert (final["state_type"], final["state_name"], final["run_count"]) == (
        "COMPLETED",
        "Completed",
        1,
    )
    assert final["start_time"] == result["state"]["timestamp"]
    assert final["end_time"] == done.json()["state"]["timestamp"]
    assert final["total_run_time"] > 0
    assert final["estimated_run_time"] == final["total_run_time"]

    history = (await client.get("/api/flow_run_states/", params={"flow_run_id": run["id"]})).json()
    assert [s["type"] for s in history] == ["PENDING", "RUNNING", "COMPLETED"]
    one = await client.get(f"/api/flow_run_states/{history[1]['id']}")
    assert one.json() == history[1]


async def test_pending_twice_aborts_with_200(client: httpx.AsyncClient) -> None:
    run = await make_run(client, await make_flow(client))
    response = await set_state(client, run["id"], "PENDING")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ABORT"
    assert body["details"] == {
        "type": "abort_details",
        "reason": "This run is in a PENDING state and cannot transition to a PENDING state.",
    }
    assert body["state"]["id"] == run["state"]["id"]  # unchanged
    submitting = await set_state(client, run["id"], "PENDING", "Submitting")
    assert (submitting.status_code, submitting.json()["status"]) == (201, "ACCEPT")


async def test_scheduled_run_waits_then_runs(client: httpx.AsyncClient) -> None:
    flow_id = await make_flow(client)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    state = {
        "type": "SCHEDULED",
        "name": "Scheduled",
        "state_details": {"scheduled_time": soon.isoformat()},
    }
    run = await make_run(client, flow_id, state=state)
    assert run["expected_start_time"] == run["next_scheduled_start_time"]
    pending_ = await set_state(client, run["id"], "PENDING")
    assert pending_.status_code == 201
    carried = pending_.json()["state"]["state_details"]["scheduled_time"]
    assert dt.datetime.fromisoformat(carried) == soon.replace(microsecond=soon.microsecond)
    wait = await set_state(client, run["id"], "RUNNING")
    assert wait.status_code == 200
    assert wait.json()["status"] == "WAIT"
    assert 29 <= wait.json()["details"]["delay_seconds"] <= 31
    assert wait.json()["details"]["reason"] == "Scheduled time is in the future"


async def test_flow_retry_is_orchestrated_by_the_server(client: httpx.AsyncClient) -> None:
    run = await make_run(
        client, await make_flow(client), empirical_policy={"retries": 1, "retry_delay": 1}
    )
    assert (await set_state(client, run["id"], "RUNNING")).status_code == 201
    result = {
        "storage_key": "/tmp/x",
        "expiration": None,
        "serializer": {"type": "pickle"},
        "prefect_version": "3.9.1",
        "storage_block_id": None,
    }
    failed = await set_state(client, run["id"], "FAILED", message="boom", data=result)
    assert failed.status_code == 201
    body = failed.json()
    assert body["status"] == "REJECT"
    assert body["details"] == {"type": "reject_details", "reason": "Retrying"}
    assert (body["state"]["type"], body["state"]["name"]) == ("SCHEDULED", "AwaitingRetry")
    assert body["state"]["message"] == "boom"
    assert body["state"]["data"] == result
    wait = await set_state(client, run["id"], "RUNNING")
    assert wait.json()["status"] == "WAIT"
    assert wait.json()["details"]["delay_seconds"] == 1
    after = (await client.get(f"/api/flow_runs/{run['id']}")).json()
    assert after["empirical_policy"]["retry_type"] == "in_process"
    assert after["next_scheduled_start_time"] is not None


async def test_cancelling_rules(client: httpx.AsyncClient) -> None:
    flow_id = await make_flow(client)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    scheduled = await make_run(
        client,
        flow_id,
        state={"type": "SCHEDULED", "state_details": {"scheduled_time": later}},
    )
    cancel = await set_state(client, scheduled["id"], "CANCELLING")
    assert cancel.status_code == 201
    assert cancel.json()["status"] == "REJECT"
    assert cancel.json()["state"]["type"] == "CANCELLED"
    assert cancel.json()["details"]["reason"] == (
        "Scheduled flow run has no infrastructure to terminate."
    )

    run = await make_run(client, flow_id)
    await set_state(client, run["id"], "RUNNING")
    assert (await set_state(client, run["id"], "CANCELLING")).status_code == 201
    refused = await set_state(client, run["id"], "COMPLETED")
    assert (refused.status_code, refused.json()["status"]) == (200, "REJECT")
    assert refused.json()["state"]["type"] == "CANCELLING"
    forced = await set_state(
        client, run["id"], "CANCELLED", message="Flow run was cancelled successfully.", force=True
    )
    assert (forced.status_code, forced.json()["status"]) == (201, "ACCEPT")


async def test_idempotency_key_returns_the_existing_run(client: httpx.AsyncClient) -> None:
    flow_id = await make_flow(client)
    first = await make_run(client, flow_id, idempotency_key="k1")
    again = await client.post("/api/flow_runs/", json={"flow_id": flow_id, "idempotency_key": "k1"})
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]


async def test_filter_count_sort_page(client: httpx.AsyncClient) -> None:
    f1, f2 = await make_flow(client, "f1"), await make_flow(client, "f2")
    runs = [await make_run(client, f1, tags=["x"] if i % 2 else [], name=f"r{i}") for i in range(5)]
    other = await make_run(client, f2, name="other")
    await set_state(client, runs[0]["id"], "RUNNING")

    async def names(body: dict[str, Any]) -> list[str]:
        response = await client.post("/api/flow_runs/filter", json=body)
        assert response.status_code == 200, response.text
        return [r["name"] for r in response.json()]

    assert await names({"sort": "NAME_ASC", "limit": 2, "offset": 1}) == ["r0", "r1"]
    assert await names(
        {
            "flows": {"operator": "and_", "id": {"any_": [f2]}, "name": None, "tags": None},
            "sort": None,
            "limit": None,
            "offset": 0,
        }
    ) == ["other"]
    assert await names({"flow_runs": {"tags": {"all_": ["x"]}}, "sort": "NAME_ASC"}) == ["r1", "r3"]
    assert await names({"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}}}) == ["r0"]
    assert await names({"flow_runs": {"name": {"like_": "OTH"}}}) == ["other"]
    by_id = {"flow_runs": {"id": {"any_": [other["id"], runs[4]["id"]]}}, "sort": "NAME_DESC"}
    assert await names(by_id) == ["r4", "other"]
    newest_first = await names({"sort": "EXPECTED_START_TIME_DESC", "limit": 15, "offset": 0})
    assert newest_first[0] == "other"

    count = await client.post("/api/flow_runs/count", json={"flows": {"name": {"any_": ["f1"]}}})
    assert count.json() == 5
    assert (await client.post("/api/flow_runs/count")).json() == 6
    assert_error(
        await client.post("/api/flow_runs/filter", json={"sort": "SIDEWAYS"}), 422, "invalid"
    )
    assert_error(
        await client.post(
            "/api/flow_runs/filter", json={"flow_runs": {"state": {"type": {"any_": ["NOPE"]}}}}
        ),
        422,
        "invalid",
    )


async def test_subflow_placeholder_mirrors_the_child(client: httpx.AsyncClient) -> None:
    parent = await make_run(client, await make_flow(client, "parent-flow"))
    await set_state(client, parent["id"], "RUNNING")
    task = await client.post(
        "/api/task_runs/",
        json={
            "name": "child-flow-0",
            "flow_run_id": parent["id"],
            "task_key": "child_flow-1a2b",
            "dynamic_key": "0",
            "cache_key": None,
            "cache_expiration": None,
            "task_version": None,
            "empirical_policy": {"retries": 0, "retry_delay": 0},
            "tags": [],
            "labels": {},
            "task_inputs": {"x": []},
            "state": pending(),
        },
    )
    assert task.status_code == 201
    placeholder = task.json()
    assert placeholder["labels"] == {
        "prefect.flow.id": parent["flow_id"],
        "prefect.flow-run.id": parent["id"],
    }
    dedupe = await client.post(
        "/api/flow_runs/filter",
        json={
            "flow_runs": {"parent_task_run_id": {"any_": [placeholder["id"]]}},
            "sort": "EXPECTED_START_TIME_DESC",
            "limit": 1,
        },
    )
    assert dedupe.json() == []

    child = await make_run(
        client, await make_flow(client, "child-flow"), parent_task_run_id=placeholder["id"]
    )
    running = await set_state(client, child["id"], "RUNNING")
    done = await set_state(client, child["id"], "COMPLETED")
    states = (
        await client.get("/api/task_run_states/", params={"task_run_id": placeholder["id"]})
    ).json()
    assert [s["type"] for s in states] == ["PENDING", "PENDING", "RUNNING", "COMPLETED"]
    assert {s["state_details"]["child_flow_run_id"] for s in states[1:]} == {child["id"]}
    assert (
        states[2]["state_details"]["transition_id"]
        == (running.json()["state"]["state_details"]["transition_id"])
    )
    assert (
        states[3]["state_details"]["transition_id"]
        == (done.json()["state"]["state_details"]["transition_id"])
    )
    mirrored = (await client.get(f"/api/task_runs/{placeholder['id']}")).json()
    assert (mirrored["state_type"], mirrored["run_count"], mirrored["flow_run_run_count"]) == (
        "COMPLETED",
        1,
        0,
    )
    found = await client.post(
        "/api/flow_runs/filter",
        json={"flow_runs": {"parent_flow_run_id": {"any_": [parent["id"]]}}},
    )
    assert [r["id"] for r in found.json()] == [child["id"]]


async def test_csrf_is_reported_disabled_and_storage_is_empty(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/csrf-token", params={"client": str(uuid.uuid4())})
    assert response.status_code == 422
    assert "CSRF protection is disabled." in response.text
    storage = await client.get("/api/admin/storage")
    assert storage.json() == {"default_result_storage_block_id": None}


async def test_any_json_state_data_round_trips(client: httpx.AsyncClient) -> None:
    run = await make_run(client, await make_flow(client))
    for data in (5, 2.0, "text", [1, 2], 12345678901234567890):
        response = await set_state(client, run["id"], "RUNNING", data=data, force=True)
        assert response.status_code == 201
        assert (await client.get(f"/api/flow_runs/{run['id']}")).json()["state"]["data"] == data


async def test_every_state_change_emits_an_event(client: httpx.AsyncClient, app: FastAPI) -> None:
    run = await make_run(client, await make_flow(client, "evented"))
    with app.state.events.bus.subscribe(None) as subscription:
        await set_state(client, run["id"], "RUNNING")
        await set_state(client, run["id"], "CANCELLING")
        live = [await subscription.get(), await subscription.get()]
    assert [e["event"] for e in live] == ["prefect.flow-run.Running", "prefect.flow-run.Cancelling"]

    body = {"filter": {"resource": {"id": [f"prefect.flow-run.{run['id']}"]}, "order": "ASC"}}
    stored = (await client.post("/api/events/filter", json=body)).json()["events"]
    assert [e["event"] for e in stored] == [
        "prefect.flow-run.Pending",
        "prefect.flow-run.Running",
        "prefect.flow-run.Cancelling",
    ]
    cancelling = stored[-1]
    assert cancelling["resource"]["prefect.resource.name"] == run["name"]
    assert cancelling["resource"]["prefect.state-type"] == "CANCELLING"
    assert cancelling["related"][0] == {
        "prefect.resource.id": f"prefect.flow.{run['flow_id']}",
        "prefect.resource.role": "flow",
        "prefect.resource.name": "evented",
    }
    assert cancelling["payload"]["intended"] == {"from": "RUNNING", "to": "CANCELLING"}
    assert cancelling["payload"]["validated_state"]["name"] == "Cancelling"


async def test_every_sort_is_accepted(client: httpx.AsyncClient) -> None:
    flow_id = await make_flow(client)
    first, second = (
        await make_run(client, flow_id, name="b"),
        await make_run(client, flow_id, name="a"),
    )
    await set_state(client, first["id"], "RUNNING")
    for path, sorts in (
        ("/api/flow_runs/filter", FlowRunSort),
        ("/api/task_runs/filter", TaskRunSort),
    ):
        for sort in sorts:
            response = await client.post(path, json={"sort": sort.value})
            assert response.status_code == 200, (sort, response.text)
    by_name = await client.post("/api/flow_runs/filter", json={"sort": "NAME_ASC"})
    assert [r["id"] for r in by_name.json()] == [second["id"], first["id"]]
    started = await client.post("/api/flow_runs/filter", json={"sort": "START_TIME_DESC"})
    assert started.json()[0]["id"] == first["id"]  # never-started runs go last
