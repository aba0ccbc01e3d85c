"""The UI with 100,000 flow runs in a SQLite file: every main page still answers with the
right content. Rows go in with raw batched inserts (executemany) in the stored formats, so
building the data takes seconds; the pages' timings are printed, never asserted (speed
goals live in bench/, measured as ratios)."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from baton.clock import uuid7s
from baton.server.app import create_app
from baton.settings import DATABASE_URL_VAR, Settings

RUNS = 100_000
FLOWS = 40
DEPLOYMENTS = 20
TASKS_PER_BIG_RUN = 300
LOGS = 200_000
STATES = (
    ("COMPLETED", "Completed", 70),
    ("FAILED", "Failed", 8),
    ("CRASHED", "Crashed", 2),
    ("CANCELLED", "Cancelled", 3),
    ("RUNNING", "Running", 2),
    ("SCHEDULED", "Scheduled", 10),
    ("SCHEDULED", "Late", 3),
    ("PENDING", "Pending", 2),
)


def stamp(at: dt.datetime) -> str:
    """A UTC time as Baton stores it in SQLite."""
    return at.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def js(value: Any) -> str:
    return orjson.dumps(value).decode()


def fill(path: Path, now: dt.datetime) -> dict[str, Any]:
    """Flows, deployments, a pool, 100,000 runs, task runs and logs, written directly."""
    rng = random.Random(7)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")  # a throwaway file: no need to wait for the disk
    created = stamp(now)
    pool_id, queue_id = uuid.uuid4().hex, uuid.uuid4().hex
    db.execute(
        "INSERT INTO work_pool (id, created, updated, name, type, base_job_template, is_paused,"
        " concurrency_limit, default_queue_id) VALUES (?,?,?,?,?,?,0,10,?)",
        (pool_id, created, created, "scale-pool", "process", "{}", queue_id),
    )
    db.execute(
        "INSERT INTO work_queue (id, created, updated, work_pool_id, name, is_paused, priority)"
        " VALUES (?,?,?,?,?,0,1)",
        (queue_id, created, created, pool_id, "default"),
    )
    flows = [uuid.uuid4().hex for _ in range(FLOWS)]
    db.executemany(
        "INSERT INTO flow (id, created, updated, name, tags) VALUES (?,?,?,?,?)",
        [(f, created, created, f"flow-{i:02d}", "[]") for i, f in enumerate(flows)],
    )
    deployments = [(uuid.uuid4().hex, flows[i]) for i in range(DEPLOYMENTS)]
    db.executemany(
        "INSERT INTO deployment (id, created, updated, name, flow_id, paused, tags, parameters,"
        " enforce_parameter_schema, job_variables, work_queue_id, work_queue_name,"
        " concurrency_limit) VALUES (?,?,?,?,?,0,'[]','{}',1,'{}',?,'default',3)",
        [
            (d, created, created, f"dep-{i:02d}", f, queue_id)
            for i, (d, f) in enumerate(deployments)
        ],
    )
    db.executemany(
        "INSERT INTO deployment_schedule (id, created, updated, deployment_id, schedule, active,"
        " parameters) VALUES (?,?,?,?,?,1,'{}')",
        [
            (uuid.uuid4().hex, created, created, d, js({"interval": 3600.0, "timezone": "UTC"}))
            for d, _ in deployments[:5]
        ],
    )
    weights = [w for _, _, w in STATES]
    rows = []
    # Time-ordered ids, as Baton makes them: each insert lands at the end of its index.
    run_ids = [u.hex for u in uuid7s(RUNS)]
    for i, run_id in enumerate(run_ids):
        kind, name = rng.choices([(k, n) for k, n, _ in STATES], weights)[0]
        if kind == "SCHEDULED" and name == "Scheduled":
            expected = now + dt.timedelta(seconds=rng.uniform(60, 7 * 86400))
        else:
            expected = now - dt.timedelta(seconds=rng.uniform(60, 30 * 86400))
        started = ended = None
        run_time = 0.0
        if kind not in ("SCHEDULED", "PENDING"):
            started = expected + dt.timedelta(seconds=rng.uniform(0, 5))
            run_time = rng.uniform(1, 600)
            if kind != "RUNNING":
                ended = started + dt.timedelta(seconds=run_time)
        dep, flow = deployments[i % DEPLOYMENTS] if i % 3 else (None, flows[i % FLOWS])
        rows.append(
            (
                run_id,
                created,
                created,
                f"run-{i:06d}",
                flow,
                dep,
                queue_id if dep else None,
                "default" if dep else None,
                pool_id if dep else None,
                "scale-pool" if dep else None,
                "{}",
                "{}",
                "{}",
                js(["scale", f"batch-{i % 10}"]),
                None,
                kind,
                name,
                stamp(ended or started or expected),
                stamp(expected),
                stamp(expected),
                stamp(started) if started else None,
                stamp(ended) if ended else None,
                run_time,
                1 if started else 0,
            )
        )
    db.executemany(
        "INSERT INTO flow_run (id, created, updated, name, flow_id, deployment_id, work_queue_id,"
        " work_queue_name, work_pool_id, work_pool_name, parameters, context, empirical_policy,"
        " tags, state_id, state_type, state_name, state_timestamp, expected_start_time,"
        " next_scheduled_start_time, start_time, end_time, total_run_time, run_count,"
        " auto_scheduled) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)",
        rows,
    )
    big = run_ids[1]  # a run of a deployment, with many task runs and logs
    big_start = now - dt.timedelta(hours=1)
    db.execute(
        "UPDATE flow_run SET state_type='RUNNING', state_name='Running', start_time=?,"
        " expected_start_time=? WHERE id=?",
        (stamp(big_start), stamp(big_start), big),
    )
    tasks = []
    for j in range(TASKS_PER_BIG_RUN):
        begin = big_start + dt.timedelta(seconds=j * 10)
        tasks.append(
            (
                uuid.uuid4().hex,
                created,
                created,
                f"task-{j:03d}",
                big,
                f"task-{j}",
                "0",
                "{}",
                "[]",
                "{}",
                "COMPLETED",
                "Completed",
                stamp(begin + dt.timedelta(seconds=8)),
                stamp(begin),
                stamp(begin),
                stamp(begin + dt.timedelta(seconds=8)),
                8.0,
            )
        )
    db.executemany(
        "INSERT INTO task_run (id, created, updated, name, flow_run_id, task_key, dynamic_key,"
        " empirical_policy, tags, task_inputs, state_type, state_name, state_timestamp,"
        " expected_start_time, start_time, end_time, total_run_time, run_count,"
        " flow_run_run_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,1)",
        tasks,
    )
    logs = []
    log_ids = uuid7s(LOGS)
    for k in range(LOGS):
        run_id = big if k % 4 == 0 else run_ids[k % RUNS]
        at = now - dt.timedelta(seconds=LOGS - k)
        message = f"processed chunk {k}" if k % 1000 else f"needle error in chunk {k}"
        logs.append(
            (log_ids[k].hex, created, created, "prefect.flow_runs", 40 if k % 1000 == 0 else 20,
             message, stamp(at), run_id)
        )  # fmt: skip
    db.executemany(
        "INSERT INTO log (id, created, updated, name, level, message, timestamp, flow_run_id)"
        " VALUES (?,?,?,?,?,?,?,?)",
        logs,
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return {
        "big": str(uuid.UUID(big)),
        "flow": str(uuid.UUID(flows[1])),
        "deployment": str(uuid.UUID(deployments[1][0])),
    }


@pytest.fixture(scope="module")
def scale_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, Any]]:
    home = tmp_path_factory.mktemp("scale")
    env = {"BATON_HOME": str(home), DATABASE_URL_VAR: f"sqlite+aiosqlite:///{home / 'baton.db'}"}
    settings = Settings.from_env(env).with_overrides(services=False)

    async def migrate() -> None:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(migrate())
    start = time.perf_counter()
    ids = fill(home / "baton.db", dt.datetime.now(dt.UTC))
    print(f"\nfilled {RUNS:,} runs, {LOGS:,} logs in {time.perf_counter() - start:.1f}s")
    return settings, ids


@pytest.fixture
async def scale_client(
    scale_db: tuple[Settings, dict[str, Any]],
) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(scale_db[0])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://baton") as client:
            yield client


async def test_pages_with_100k_runs(
    scale_client: httpx.AsyncClient,
    scale_db: tuple[Settings, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = scale_db[1]
    client = scale_client
    timings: list[tuple[str, float, int]] = []

    async def get(path: str, *expected: str) -> str:
        await client.get(path)  # warm: templates compiled, connections open
        start = time.perf_counter()
        response = await client.get(path)
        timings.append((path, (time.perf_counter() - start) * 1000, len(response.content)))
        assert response.status_code == 200, (path, response.text[:300])
        for text in expected:
            assert text in response.text, (path, text)
        return response.text

    await get("/", "Flow runs by state", "Failed runs", "Late runs", "dep-", "scale-pool")
    await get("/?window=7d", "last 7d")
    first = await get("/runs", "more than 10,000 runs", "run-")
    # Deep paging: follow "next" a few times, then jump far with an old cursor.
    page = first
    for _ in range(3):
        found = re.search(r'rel="next" href="\?([^"]+)"', page)
        assert found
        page = await get("/runs?" + found.group(1).replace("&amp;", "&"), "run-")
    oldest = await get("/runs?sort=oldest&limit=200", "run-")
    cursor = re.findall(r'rel="next" href="\?[^"]*after=([^"&]+)"', oldest)
    assert cursor
    await get(f"/runs?sort=oldest&limit=200&after={cursor[0]}", "run-")
    await get("/runs?state=FAILED&state=CRASHED", "Failed")
    await get("/runs?state=LATE", "Late")
    await get("/runs?tag=batch-3&range=7d", "batch-3")
    await get("/runs?q=run-0999", "run-09990")
    await get("/runs?sort=name_desc", "run-099999")
    await get(f"/runs?flow={ids['flow']}&range=24h")
    await get(f"/runs/{ids['big']}", "task-000", "processed chunk")
    await get(f"/runs/{ids['big']}?tab=tasks", "task-299")
    await get(f"/runs/{ids['big']}/live/logs")
    await get("/flows", "flow-00", "flow-39")
    await get(f"/flows/{ids['flow']}", "dep-01")
    await get("/deployments", "dep-00", "every hour")
    await get(f"/deployments/{ids['deployment']}", "Run now", "run-")
    await get("/work-pools", "scale-pool")
    await get("/work-pools/scale-pool", "default")
    await get("/logs", "processed chunk")
    await get("/logs?q=needle&level=40", "needle error")
    await get(f"/logs?flow={ids['flow']}", "chunk")
    await get("/events")
    await get("/concurrency", "dep-00")
    with capsys.disabled():
        print(f"\nUI pages with {RUNS:,} runs, {LOGS:,} logs (SQLite, in-process, warm):")
        for path, ms, size in timings:
            print(f"  {ms:7.1f} ms  {size / 1024:6.1f} KB  {path[:90]}")
