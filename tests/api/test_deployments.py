"""Deployments over HTTP with the bodies `flow.serve`, `deploy` and the CLI send (compat
surface S3, S4, S5, §7.3), their schedules, runs on demand, and the runs a runner polls."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from baton.clock import utcnow
from baton.core.deployment_runs import Horizon
from baton.core.flow_runs import mark_late_runs
from baton.db import tables as t
from baton.db.database import Database
from baton.services.scheduler import schedule_pass
from tests.api.test_error_shape import assert_error

DEPLOYMENT_KEYS = {
    "id",
    "created",
    "updated",
    "name",
    "version",
    "version_info",
    "description",
    "flow_id",
    "paused",
    "schedules",
    "concurrency_limit",
    "global_concurrency_limit",
    "concurrency_options",
    "job_variables",
    "parameters",
    "tags",
    "labels",
    "work_queue_name",
    "work_queue_id",
    "last_polled",
    "parameter_openapi_schema",
    "path",
    "pull_steps",
    "entrypoint",
    "storage_document_id",
    "infrastructure_document_id",
    "created_by",
    "updated_by",
    "work_pool_name",
    "status",
    "enforce_parameter_schema",
}
SCHEDULE_KEYS = {
    "id",
    "created",
    "updated",
    "deployment_id",
    "schedule",
    "active",
    "max_scheduled_runs",
    "parameters",
    "slug",
    "catchup_window",  # a Baton extension
}
PARAMETER_SCHEMA = {
    "title": "Parameters",
    "type": "object",
    "properties": {
        "n": {"title": "n", "position": 0, "type": "integer"},
        "label": {"title": "label", "position": 1, "type": "string", "default": "x"},
    },
    "required": ["n"],
    "definitions": {},
}


def interval(seconds: float, **extra: Any) -> dict[str, Any]:
    anchor = "2026-01-01T00:00:00+00:00"
    return {
        "schedule": {"interval": seconds, "anchor_date": anchor, "timezone": "UTC"},
        "active": True,
        "max_scheduled_runs": None,
        "parameters": {},
        "slug": None,
        "replaces": None,
        **extra,
    }


def served_body(flow_id: str, **extra: Any) -> dict[str, Any]:
    """What `flow.serve(name="served-dep", interval=10, parameters={"n": 5}, tags=["cap"])`
    sends (S3)."""
    return {
        "name": "served-dep",
        "flow_id": flow_id,
        "paused": False,
        "schedules": [interval(10.0)],
        "concurrency_limit": None,
        "concurrency_options": None,
        "enforce_parameter_schema": True,
        "parameter_openapi_schema": PARAMETER_SCHEMA,
        "parameters": {"n": 5},
        "tags": ["cap"],
        "labels": {},
        "work_queue_name": None,
        "storage_document_id": None,
        "infrastructure_document_id": None,
        "description": "None",
        "path": ".",
        "entrypoint": "served.py:served_flow",
        "job_variables": {},
        "version": "abc123",
        "version_info": {"type": "prefect:simple", "version": "abc123"},
        **extra,
    }


async def new_flow(client: httpx.AsyncClient, name: str = "served-flow") -> str:
    response = await client.post("/api/flows/", json={"name": name, "tags": [], "labels": {}})
    flow_id: str = response.json()["id"]
    return flow_id


async def new_deployment(client: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    flow_id = await new_flow(client)
    response = await client.post("/api/deployments/", json=served_body(flow_id, **extra))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def add_pool(db: Database, name: str = "p1") -> tuple[uuid.UUID, uuid.UUID]:
    """A work pool with its default queue, written directly (the pools API is separate)."""
    pool_id, queue_id = uuid.uuid4(), uuid.uuid4()

    def job(conn: sa.Connection) -> None:
        now = utcnow()
        conn.execute(
            t.work_pool.insert().values(
                id=pool_id,
                created=now,
                updated=now,
                name=name,
                type="process",
                base_job_template={},
                default_queue_id=queue_id,
            )
        )
        conn.execute(
            t.work_queue.insert().values(
                id=queue_id,
                created=now,
                updated=now,
                work_pool_id=pool_id,
                name="default",
                priority=1,
            )
        )

    await db.write(job)
    return pool_id, queue_id


async def runs_of(client: httpx.AsyncClient, deployment_id: str) -> list[dict[str, Any]]:
    body = {
        "deployments": {"id": {"any_": [deployment_id]}},
        "sort": "EXPECTED_START_TIME_ASC",
        "limit": 1000,
    }
    response = await client.post("/api/flow_runs/filter", json=body)
    assert response.status_code == 200, response.text
    runs: list[dict[str, Any]] = response.json()
    return runs


def parse(moment: str) -> dt.datetime:
    return dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))


# --- create, read, upsert -------------------------------------------------------------------


async def test_create_read_and_upsert_by_flow_and_name(client: httpx.AsyncClient) -> None:
    created = await new_deployment(client)
    assert set(created) == DEPLOYMENT_KEYS
    assert created["status"] == "NOT_READY"
    assert created["parameters"] == {"n": 5}
    assert created["work_queue_name"] is None
    assert created["work_pool_name"] is None
    [schedule] = created["schedules"]
    assert set(schedule) == SCHEDULE_KEYS
    assert schedule["deployment_id"] == created["id"]
    assert schedule["schedule"]["interval"] == 10.0
    assert schedule["schedule"]["timezone"] == "UTC"

    by_id = await client.get(f"/api/deployments/{created['id']}")
    assert by_id.json() == created
    by_name = await client.get("/api/deployments/name/served-flow/served-dep")
    assert by_name.json() == created

    # The same flow and name again: the deployment is updated in place (200), schedules
    # replaced.
    again = await client.post(
        "/api/deployments/",
        json=served_body(created["flow_id"], parameters={"n": 7}, schedules=[]),
    )
    assert again.status_code == 200, again.text
    assert again.json()["id"] == created["id"]
    assert again.json()["parameters"] == {"n": 7}
    assert again.json()["schedules"] == []


async def test_unknown_deployment_flow_and_pool(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"/api/deployments/{uuid.uuid4()}")
    assert assert_error(missing, 404, "not_found")["detail"] == "Deployment not found"
    by_name = await client.get("/api/deployments/name/nope/nope")
    assert_error(by_name, 404, "not_found")

    no_flow = await client.post("/api/deployments/", json=served_body(str(uuid.uuid4())))
    body = assert_error(no_flow, 422, "invalid")
    assert body["errors"][0]["loc"] == "body.flow_id"

    flow_id = await new_flow(client)
    no_pool = await client.post(
        "/api/deployments/", json=served_body(flow_id, work_pool_name="nowhere")
    )
    assert assert_error(no_pool, 404, "not_found")["detail"] == 'Work pool "nowhere" not found.'


async def test_bad_schedules_are_refused_naming_the_fault(client: httpx.AsyncClient) -> None:
    flow_id = await new_flow(client)
    cases = [
        {"schedule": {"cron": "61 * * * *"}},
        {"schedule": {"interval": 0}},
        {"schedule": {"interval": 60, "timezone": "Mars/Olympus"}},
        {"schedule": {"rrule": "FREQ=NEVER"}},
        {"schedule": {"every": "day"}},
    ]
    for case in cases:
        response = await client.post(
            "/api/deployments/", json=served_body(flow_id, schedules=[case])
        )
        body = assert_error(response, 422, "invalid")
        assert body["errors"][0]["loc"].startswith("body.schedules.0"), body
    duplicate_slugs = [interval(60, slug="a"), interval(120, slug="a")]
    response = await client.post(
        "/api/deployments/", json=served_body(flow_id, schedules=duplicate_slugs)
    )
    assert "unique" in assert_error(response, 422, "invalid")["detail"]


async def test_deploy_to_a_pool_fills_the_default_queue(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    pool_id, queue_id = await add_pool(app.state.db)
    created = await new_deployment(client, work_pool_name="p1", schedules=[])
    assert created["work_pool_name"] == "p1"
    assert created["work_queue_name"] == "default"
    assert created["work_queue_id"] == str(queue_id)

    # A queue the pool does not have yet is created, after the existing ones.
    other = await client.patch(f"/api/deployments/{created['id']}", json={"work_queue_name": "gpu"})
    assert other.status_code == 204, other.text
    updated = (await client.get(f"/api/deployments/{created['id']}")).json()
    assert updated["work_queue_name"] == "gpu"
    assert updated["work_pool_name"] == "p1"
    async with app.state.db.read() as conn:
        queue = (
            await conn.execute(sa.select(t.work_queue).where(t.work_queue.c.name == "gpu"))
        ).one()
    assert queue.work_pool_id == pool_id
    assert queue.priority == 2
    assert updated["work_queue_id"] == str(queue.id)


async def test_patch_changes_only_what_is_sent(client: httpx.AsyncClient) -> None:
    created = await new_deployment(client)
    response = await client.patch(
        f"/api/deployments/{created['id']}",
        json={"description": "nightly", "tags": None, "job_variables": None},
    )
    assert response.status_code == 204, response.text
    updated = (await client.get(f"/api/deployments/{created['id']}")).json()
    assert updated["description"] == "nightly"
    assert updated["tags"] == []  # a null restores the default
    assert updated["job_variables"] == {}
    assert updated["parameters"] == {"n": 5}
    assert updated["schedules"] == created["schedules"]
    assert parse(updated["updated"]) > parse(created["updated"])

    missing = await client.patch(f"/api/deployments/{uuid.uuid4()}", json={"paused": True})
    assert_error(missing, 404, "not_found")
    wrong = await client.patch(f"/api/deployments/{created['id']}", json={"paused": "maybe"})
    assert_error(wrong, 422, "invalid")


async def test_delete(client: httpx.AsyncClient) -> None:
    created = await new_deployment(client)
    assert (await client.delete(f"/api/deployments/{created['id']}")).status_code == 204
    assert (await client.get(f"/api/deployments/{created['id']}")).status_code == 404
    again = await client.delete(f"/api/deployments/{created['id']}")
    assert_error(again, 404, "not_found")


# --- queries --------------------------------------------------------------------------------


async def test_filter_count_and_paginate(client: httpx.AsyncClient) -> None:
    flows = {name: await new_flow(client, name) for name in ("etl", "report")}
    specs = [
        ("etl", "daily", ["prod"], False),
        ("etl", "hourly", ["prod", "fast"], True),
        ("report", "weekly", [], False),
    ]
    ids = {}
    for flow, name, tags, paused in specs:
        body = served_body(flows[flow], name=name, tags=tags, paused=paused, schedules=[])
        ids[name] = (await client.post("/api/deployments/", json=body)).json()["id"]

    async def names(body: dict[str, Any]) -> list[str]:
        response = await client.post("/api/deployments/filter", json=body)
        assert response.status_code == 200, response.text
        return [d["name"] for d in response.json()]

    # What `prefect deployment ls` sends.
    everything = {"flows": None, "deployments": None, "limit": None, "offset": 0, "sort": None}
    assert await names(everything) == ["daily", "hourly", "weekly"]
    assert await names({"sort": "NAME_DESC"}) == ["weekly", "hourly", "daily"]
    assert await names({"deployments": {"paused": {"eq_": True}}}) == ["hourly"]
    assert await names({"deployments": {"tags": {"all_": ["prod"]}}}) == ["daily", "hourly"]
    assert await names({"deployments": {"name": {"like_": "EEK"}}}) == ["weekly"]
    assert await names({"flows": {"name": {"any_": ["report"]}}}) == ["weekly"]
    assert await names({"deployments": {"flow_or_deployment_name": {"like_": "rep"}}}) == ["weekly"]
    assert await names({"deployments": {"id": {"any_": [ids["daily"]]}}}) == ["daily"]
    assert await names({"limit": 1, "offset": 1}) == ["hourly"]

    count = await client.post("/api/deployments/count", json={"flows": {"name": {"any_": ["etl"]}}})
    assert count.json() == 2

    page = await client.post("/api/deployments/paginate", json={"page": 2, "limit": 2})
    assert page.status_code == 200, page.text
    body = page.json()
    assert [d["name"] for d in body["results"]] == ["weekly"]
    assert (body["count"], body["limit"], body["pages"], body["page"]) == (3, 2, 2, 2)

    # Flows that have deployments matching a filter.
    flows_found = await client.post(
        "/api/flows/filter", json={"deployments": {"paused": {"eq_": True}}}
    )
    assert [f["name"] for f in flows_found.json()] == ["etl"]

    bad = await client.post("/api/deployments/filter", json={"sort": "SIDEWAYS"})
    assert_error(bad, 422, "invalid")


# --- runs on demand ---------------------------------------------------------------------------


async def test_create_flow_run_merges_the_deployment(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await add_pool(app.state.db)
    dep = await new_deployment(client, work_pool_name="p1", schedules=[], labels={"team": "a"})
    now = utcnow().isoformat()
    body = {  # what `prefect deployment run` sends (S4)
        "state": {
            "type": "SCHEDULED",
            "name": "Scheduled",
            "message": None,
            "state_details": {"scheduled_time": now},
            "data": None,
        },
        "name": None,
        "parameters": {},
        "context": {},
        "tags": ["extra"],
        "idempotency_key": None,
        "parent_task_run_id": None,
        "job_variables": {},
        "labels": {},
    }
    response = await client.post(f"/api/deployments/{dep['id']}/create_flow_run", json=body)
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["deployment_id"] == dep["id"]
    assert run["parameters"] == {"n": 5}
    assert run["deployment_version"] == "abc123"
    assert run["work_pool_name"] == "p1"
    assert run["work_queue_name"] == "default"
    assert run["work_queue_id"] == dep["work_queue_id"]
    assert run["work_pool_id"] is not None
    assert run["tags"] == ["cap", "extra"]
    assert run["labels"]["prefect.deployment.id"] == dep["id"]
    assert run["labels"]["prefect.flow.id"] == dep["flow_id"]
    assert run["labels"]["team"] == "a"
    assert run["state"]["type"] == "SCHEDULED"
    assert run["auto_scheduled"] is False

    # Sent parameters win over the deployment's; an idempotency key returns the same run.
    keyed = {**body, "parameters": {"n": 9}, "idempotency_key": "k1"}
    first = await client.post(f"/api/deployments/{dep['id']}/create_flow_run", json=keyed)
    second = await client.post(f"/api/deployments/{dep['id']}/create_flow_run", json=keyed)
    assert first.status_code == 201
    assert second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["parameters"] == {"n": 9}

    # No body at all: Scheduled for now.
    bare = await client.post(f"/api/deployments/{dep['id']}/create_flow_run")
    assert bare.status_code == 201, bare.text
    assert bare.json()["state"]["name"] == "Scheduled"


async def test_parameter_schema_is_enforced(client: httpx.AsyncClient) -> None:
    dep = await new_deployment(client, schedules=[])
    url = f"/api/deployments/{dep['id']}/create_flow_run"
    wrong_type = await client.post(url, json={"parameters": {"n": "five"}})
    body = assert_error(wrong_type, 422, "invalid")
    assert "'n'" in body["detail"]
    assert body["errors"][0]["loc"] == "body.parameters.n"

    missing = await client.patch(f"/api/deployments/{dep['id']}", json={"parameters": {}})
    assert missing.status_code == 204
    response = await client.post(url, json={"parameters": {"label": "y"}})
    assert "'n'" in assert_error(response, 422, "invalid")["detail"]

    # The run may opt out, and so may the deployment.
    opted_out = await client.post(
        url, json={"parameters": {"n": "five"}, "enforce_parameter_schema": False}
    )
    assert opted_out.status_code == 201, opted_out.text
    await client.patch(f"/api/deployments/{dep['id']}", json={"enforce_parameter_schema": False})
    assert (await client.post(url, json={"parameters": {"n": []}})).status_code == 201

    unknown = await client.post(f"/api/deployments/{uuid.uuid4()}/create_flow_run", json={})
    assert_error(unknown, 404, "not_found")


async def test_get_scheduled_flow_runs_marks_the_deployment_ready(
    client: httpx.AsyncClient,
) -> None:
    dep = await new_deployment(client, schedules=[])
    url = f"/api/deployments/{dep['id']}/create_flow_run"
    soon = (utcnow() + dt.timedelta(seconds=5)).isoformat()
    later = (utcnow() + dt.timedelta(hours=1)).isoformat()
    due = (await client.post(url, json={"state": scheduled_at(soon)})).json()
    await client.post(url, json={"state": scheduled_at(later)})
    await client.post(url, json={"state": {"type": "PENDING"}})

    # The runner sends a space, not a T, in scheduled_before.
    before = str(utcnow() + dt.timedelta(seconds=10))
    assert " " in before
    response = await client.post(
        "/api/deployments/get_scheduled_flow_runs",
        json={"deployment_ids": [dep["id"]], "scheduled_before": before},
    )
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()] == [due["id"]]
    polled = (await client.get(f"/api/deployments/{dep['id']}")).json()
    assert polled["status"] == "READY"
    assert polled["last_polled"] is not None


def scheduled_at(moment: str) -> dict[str, Any]:
    return {"type": "SCHEDULED", "state_details": {"scheduled_time": moment}}


# --- schedules and the scheduler ---------------------------------------------------------------


async def test_scheduler_fills_the_horizon_once(client: httpx.AsyncClient, app: FastAPI) -> None:
    db, bus = app.state.db, app.state.events.bus
    dep = await new_deployment(client)
    [schedule] = dep["schedules"]
    assert await schedule_pass(db, bus, Horizon()) == 100
    assert await schedule_pass(db, bus, Horizon()) == 0  # nothing left to do

    runs = await runs_of(client, dep["id"])
    assert len(runs) == 100
    times = [parse(r["expected_start_time"]) for r in runs]
    assert all(b - a == dt.timedelta(seconds=10) for a, b in itertools.pairwise(times))
    assert all(moment.second % 10 == 0 and moment.microsecond == 0 for moment in times)
    first = runs[0]
    assert first["auto_scheduled"] is True
    assert first["tags"] == ["auto-scheduled", "cap"]
    assert first["parameters"] == {"n": 5}
    assert first["state"]["name"] == "Scheduled"
    assert first["state"]["message"] == "Flow run scheduled"
    assert parse(first["state"]["state_details"]["scheduled_time"]) == times[0]
    assert first["created_by"] == {
        "id": schedule["id"],
        "type": "SCHEDULE",
        "display_value": "IntervalSchedule",
    }
    expected_key = f"scheduled {dep['id']} {schedule['id']} {times[0]}"
    assert first["idempotency_key"] == expected_key
    assert first["labels"]["prefect.deployment.id"] == dep["id"]


async def test_concurrent_scheduler_passes_never_duplicate(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    db, bus = app.state.db, app.state.events.bus
    dep = await new_deployment(client, schedules=[interval(60.0)])
    created = await asyncio.gather(*(schedule_pass(db, bus, Horizon()) for _ in range(4)))
    runs = await runs_of(client, dep["id"])
    assert len(runs) in (60, 61)  # every minute for the next hour (the horizon's minimum)
    assert sum(created) == len(runs)
    keys = [r["idempotency_key"] for r in runs]
    assert len(keys) == len(set(keys))


async def test_pausing_deletes_only_future_auto_scheduled_runs(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    db, bus = app.state.db, app.state.events.bus
    dep = await new_deployment(client)
    await schedule_pass(db, bus, Horizon())
    manual = await client.post(
        f"/api/deployments/{dep['id']}/create_flow_run",
        json={"state": scheduled_at((utcnow() + dt.timedelta(hours=2)).isoformat())},
    )
    # A past-due auto-scheduled run (its time has come): backfilled from an hour ago.
    past = (utcnow() - dt.timedelta(hours=1)).isoformat()
    response = await client.post(
        f"/api/deployments/{dep['id']}/schedule",
        json={"start_time": past, "max_runs": 1, "min_runs": 1},
    )
    assert response.json() == {"created": 1}

    paused = await client.patch(f"/api/deployments/{dep['id']}", json={"paused": True})
    paused_at = utcnow()
    assert paused.status_code == 204
    left = await runs_of(client, dep["id"])
    assert {r["id"] for r in left if not r["auto_scheduled"]} == {manual.json()["id"]}
    # The backfilled run is kept, and so is a run of the 10 s schedule whose time came
    # while the test ran; none that was still ahead when the deployment was paused.
    kept = [parse(r["expected_start_time"]) for r in left if r["auto_scheduled"]]
    assert min(kept) < paused_at - dt.timedelta(minutes=30)
    assert all(when <= paused_at for when in kept)
    assert len(kept) <= 2

    # Paused: the scheduler leaves it alone. Resumed: it fills the horizon again.
    assert await schedule_pass(db, bus, Horizon()) == 0
    await client.post(f"/api/deployments/{dep['id']}/resume_deployment")
    assert await schedule_pass(db, bus, Horizon()) == 100


async def test_replacing_a_schedule_replaces_its_runs(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    db, bus = app.state.db, app.state.events.bus
    dep = await new_deployment(client, schedules=[interval(3600.0, slug="hourly")])
    await schedule_pass(db, bus, Horizon())
    assert len(await runs_of(client, dep["id"])) == 3  # at least 3 runs or an hour ahead

    # The same slug with the same schedule: runs kept (a redeploy changes nothing).
    same = served_body(dep["flow_id"], schedules=[interval(3600.0, slug="hourly")])
    assert (await client.post("/api/deployments/", json=same)).status_code == 200
    assert len(await runs_of(client, dep["id"])) == 3

    # A different schedule: its old future runs go, the new ones come.
    daily = served_body(dep["flow_id"], schedules=[interval(86400.0, slug="daily")])
    await client.post("/api/deployments/", json=daily)
    assert await runs_of(client, dep["id"]) == []
    await schedule_pass(db, bus, Horizon())
    runs = await runs_of(client, dep["id"])
    assert len(runs) == 3
    times = [parse(r["expected_start_time"]) for r in runs]
    assert times[1] - times[0] == dt.timedelta(days=1)


async def test_schedule_crud(client: httpx.AsyncClient, app: FastAPI) -> None:
    db, bus = app.state.db, app.state.events.bus
    dep = await new_deployment(client, schedules=[])
    url = f"/api/deployments/{dep['id']}/schedules"
    cron = {"schedule": {"cron": "0 9 * * *", "timezone": "America/New_York"}}
    created = await client.post(url, json=[cron, interval(600.0, max_scheduled_runs=2)])
    assert created.status_code == 201, created.text
    cron_schedule, capped = created.json()
    assert cron_schedule["schedule"] == {
        "cron": "0 9 * * *",
        "timezone": "America/New_York",
        "day_or": True,
    }
    listed = (await client.get(url)).json()
    assert [s["id"] for s in listed] == [cron_schedule["id"], capped["id"]]

    await schedule_pass(db, bus, Horizon())
    runs = await runs_of(client, dep["id"])
    by_schedule: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_schedule.setdefault(run["created_by"]["id"], []).append(run)
    assert len(by_schedule[capped["id"]]) == 2  # max_scheduled_runs
    nine_am = [parse(r["expected_start_time"]) for r in by_schedule[cron_schedule["id"]]]
    assert len(nine_am) == 3
    for moment in nine_am:
        local = moment.astimezone(dt.timezone(dt.timedelta(hours=-5)))  # EST in winter
        assert (local.hour, local.minute) in {(9, 0), (10, 0)}  # 10:00 EST = 09:00 EDT
    assert by_schedule[cron_schedule["id"]][0]["created_by"]["display_value"] == "CronSchedule"

    # Deactivating a schedule removes its future runs only.
    off = await client.patch(f"{url}/{capped['id']}", json={"active": False})
    assert off.status_code == 204, off.text
    runs = await runs_of(client, dep["id"])
    assert {r["created_by"]["id"] for r in runs} == {cron_schedule["id"]}
    assert await schedule_pass(db, bus, Horizon()) == 0

    assert (await client.delete(f"{url}/{cron_schedule['id']}")).status_code == 204
    assert await runs_of(client, dep["id"]) == []
    assert [s["id"] for s in (await client.get(url)).json()] == [capped["id"]]

    assert_error(await client.delete(f"{url}/{uuid.uuid4()}"), 404, "not_found")
    bad = await client.post(url, json=[{"schedule": {"cron": "* * *"}}])
    assert_error(bad, 422, "invalid")


async def test_late_runs_are_marked_late(client: httpx.AsyncClient, app: FastAPI) -> None:
    db, bus = app.state.db, app.state.events.bus
    dep = await new_deployment(client, schedules=[])
    url = f"/api/deployments/{dep['id']}/create_flow_run"
    long_ago = (utcnow() - dt.timedelta(minutes=5)).isoformat()
    just_now = (utcnow() - dt.timedelta(seconds=1)).isoformat()
    late = (await client.post(url, json={"state": scheduled_at(long_ago)})).json()
    fresh = (await client.post(url, json={"state": scheduled_at(just_now)})).json()

    assert await mark_late_runs(db, bus, dt.timedelta(seconds=15)) == 1
    marked = (await client.get(f"/api/flow_runs/{late['id']}")).json()
    assert (marked["state_type"], marked["state_name"]) == ("SCHEDULED", "Late")
    assert (
        marked["state"]["state_details"]["scheduled_time"]
        == late["state"]["state_details"]["scheduled_time"]
    )
    untouched = (await client.get(f"/api/flow_runs/{fresh['id']}")).json()
    assert untouched["state_name"] == "Scheduled"
    assert await mark_late_runs(db, bus, dt.timedelta(seconds=15)) == 0  # only once

    # A Late run can still be picked up and run.
    pending = await client.post(
        f"/api/flow_runs/{late['id']}/set_state", json={"state": {"type": "PENDING"}}
    )
    assert pending.status_code == 201, pending.text


async def test_automation_lookups(client: httpx.AsyncClient) -> None:
    resource = f"prefect.deployment.{uuid.uuid4()}"
    deleted = await client.delete(f"/api/automations/owned-by/{resource}")
    assert deleted.status_code == 202
    related = await client.get(f"/api/automations/related-to/{resource}")
    assert related.json() == []


async def test_catch_up_creates_missed_runs_within_its_window(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    db, bus = app.state.db, app.state.events.bus
    hourly = interval(3600.0, slug="hourly", catchup_window=3 * 3600)
    plain = interval(3600.0, slug="plain")
    dep = await new_deployment(client, schedules=[hourly, plain])
    catching_up, skipping = dep["schedules"]
    assert catching_up["catchup_window"] == 3 * 3600

    # The server was "down" for a day: the schedules were set up a day ago.
    def backdate(conn: sa.Connection) -> None:
        day_ago = utcnow() - dt.timedelta(days=1)
        conn.execute(t.deployment_schedule.update().values(created=day_ago, updated=day_ago))

    await db.write(backdate)
    await schedule_pass(db, bus, Horizon())
    runs = await runs_of(client, dep["id"])
    now = utcnow()
    missed = [r for r in runs if parse(r["expected_start_time"]) < now]
    assert {r["created_by"]["id"] for r in missed} == {catching_up["id"]}
    assert len(missed) == 3  # the last three hours, not the whole day
    assert sum(r["created_by"]["id"] == skipping["id"] for r in runs) == 3
    assert await schedule_pass(db, bus, Horizon()) == 0

    # Runs skipped on purpose while paused are not made up after resuming.
    await client.patch(f"/api/deployments/{dep['id']}", json={"paused": True})
    await db.write(backdate)
    await client.patch(f"/api/deployments/{dep['id']}", json={"paused": False})
    await schedule_pass(db, bus, Horizon())
    again = await runs_of(client, dep["id"])
    assert [r["id"] for r in again if parse(r["expected_start_time"]) < now] == [
        r["id"] for r in missed
    ]

    too_long = interval(60.0, catchup_window=90 * 86400)
    response = await client.put(f"/api/deployments/{dep['id']}/schedules", json=[too_long])
    assert response.status_code in (405, 422)
    refused = await client.post(f"/api/deployments/{dep['id']}/schedules", json=[too_long])
    assert_error(refused, 422, "invalid")


async def test_backfill_is_idempotent(client: httpx.AsyncClient) -> None:
    dep = await new_deployment(client, schedules=[interval(3600.0)])
    start = (utcnow() - dt.timedelta(days=1)).replace(minute=30, second=0, microsecond=0)
    window = {
        "start_time": start.isoformat(),
        "end_time": (start + dt.timedelta(hours=5)).isoformat(),
    }
    url = f"/api/deployments/{dep['id']}/schedule"
    first = await client.post(url, json=window)
    assert first.json() == {"created": 5}  # 5 hourly runs on the hour inside the window
    assert (await client.post(url, json=window)).json() == {"created": 0}
    runs = await runs_of(client, dep["id"])
    times = sorted(parse(r["expected_start_time"]) for r in runs)
    assert times[0] == start.replace(minute=0) + dt.timedelta(hours=1)
    assert all(r["auto_scheduled"] for r in runs)
    backwards = {"start_time": window["end_time"], "end_time": window["start_time"]}
    assert_error(await client.post(url, json=backwards), 422, "invalid")


async def test_times_without_an_offset_are_taken_as_utc(client: httpx.AsyncClient) -> None:
    """Clients may send naive times; they mean UTC and never reach a 500."""
    dep = await new_deployment(client, schedules=[interval(3600.0)])
    window = {"start_time": "2026-01-01T00:30:00", "end_time": "2026-01-01T03:30:00"}
    made = await client.post(f"/api/deployments/{dep['id']}/schedule", json=window)
    assert made.json() == {"created": 3}, made.text
    runs = await runs_of(client, dep["id"])
    assert runs[0]["expected_start_time"] == "2026-01-01T01:00:00Z"
    polled = await client.post(
        "/api/deployments/get_scheduled_flow_runs",
        json={"deployment_ids": [dep["id"]], "scheduled_before": "2026-01-01 02:00:00"},
    )
    assert [r["id"] for r in polled.json()] == [runs[0]["id"], runs[1]["id"]]
    before = {"flow_runs": {"expected_start_time": {"before_": "2026-01-01T01:30:00"}}}
    found = await client.post("/api/flow_runs/filter", json=before)
    assert [r["id"] for r in found.json()] == [runs[0]["id"]]


async def test_cron_is_checked_as_the_client_checks_it(client: httpx.AsyncClient) -> None:
    """A cron the Prefect client refuses is a 422 at the schedule, its message naming the
    cron field; croniter forms the client accepts (`1#2`) are stored as sent."""
    flow_id = await new_flow(client)

    def with_cron(expression: str) -> dict[str, Any]:
        cron = {"cron": expression, "timezone": "America/New_York", "day_or": True}
        return served_body(flow_id, schedules=[{**interval(60), "schedule": cron}])

    refused = await client.post("/api/deployments/", json=with_cron("0 0 * * 5L"))
    body = assert_error(refused, 422, "invalid")
    [error] = body["errors"]
    assert error["loc"] == "body.schedules.0.schedule"
    assert error["msg"] == "Value error, cron: day-of-week field '5L' is not valid in '0 0 * * 5L'"
    assert error["type"] == "value_error"
    assert body["detail"].startswith(
        "Invalid request: body.schedules.0.schedule: Value error, cron:"
    )

    created = await client.post("/api/deployments/", json=with_cron("0 9 * * 1#2"))
    assert created.status_code == 201, created.text
    [schedule] = created.json()["schedules"]
    assert schedule["schedule"] == {
        "cron": "0 9 * * 1#2",
        "timezone": "America/New_York",
        "day_or": True,
    }
