"""Retention with a frozen clock: what is old goes, in batches, with what belongs to it;
everything else stays. And `baton db vacuum [--dry-run]`."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from baton.core.retention import RetentionPolicy, count_expired, delete_expired
from baton.db import tables as t
from baton.db.database import Database
from baton.events.store import insert_events, new_event
from baton.settings import Settings
from tests.api.test_flow_runs import make_flow, make_run, set_state
from tests.support.server import baton_env, run_baton

NOW = dt.datetime(2027, 6, 1, 12, 0, tzinfo=dt.UTC)  # the frozen clock: well after the data
OLD = NOW - dt.timedelta(days=120)
RECENT = NOW - dt.timedelta(days=10)


def log_row(at: dt.datetime, run_id: Any = None, message: str = "m") -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "created": at,
        "updated": at,
        "name": "test",
        "level": 20,
        "message": message,
        "timestamp": at,
        "flow_run_id": run_id,
        "task_run_id": None,
    }


async def count(db: Database, table: sa.Table) -> int:
    async with db.read() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


async def ended(client: httpx.AsyncClient, flow_id: str, at: dt.datetime, app: FastAPI) -> str:
    """A COMPLETED run that ended at `at`, with a task run, a log and an artifact."""
    run = await make_run(client, flow_id)
    for kind in ("RUNNING", "COMPLETED"):
        await set_state(client, run["id"], kind)
    await client.post(
        "/api/task_runs/",
        json={"name": "t", "flow_run_id": run["id"], "task_key": "t", "dynamic_key": "0"},
    )
    await client.post(
        "/api/artifacts/",
        json={"key": "report", "type": "markdown", "data": run["id"], "flow_run_id": run["id"]},
    )

    def backdate(conn: sa.Connection) -> None:
        run_id = uuid.UUID(run["id"])
        conn.execute(t.flow_run.update().where(t.flow_run.c.id == run_id).values(end_time=at))
        conn.execute(t.log.insert(), [log_row(at, run_id)])

    await app.state.db.write(backdate)
    run_id: str = run["id"]
    return run_id


async def test_retention_deletes_only_what_is_old(client: httpx.AsyncClient, app: FastAPI) -> None:
    db = app.state.db
    flow_id = await make_flow(client)
    old_run = await ended(client, flow_id, OLD, app)
    recent_run = await ended(client, flow_id, RECENT, app)
    unfinished = await make_run(client, flow_id)  # old but not terminal: never deleted

    def old_things(conn: sa.Connection) -> None:
        conn.execute(
            t.flow_run.update()
            .where(t.flow_run.c.id == uuid.UUID(unfinished["id"]))
            .values(created=OLD)
        )
        conn.execute(t.log.insert(), [log_row(OLD - dt.timedelta(minutes=i)) for i in range(5)])
        conn.execute(t.log.insert(), [log_row(RECENT)])
        resource = {"prefect.resource.id": "prefect.flow-run.x"}
        insert_events(conn, [new_event("old.event", resource, occurred=OLD) for _ in range(3)])
        insert_events(conn, [new_event("new.event", resource, occurred=RECENT)])
        for at in (NOW - dt.timedelta(days=400), NOW - dt.timedelta(days=300)):
            entry = {
                "id": uuid.uuid4(),
                "at": at,
                "actor": "a",
                "action": "POST /x",
                "object": "/x",
            }
            conn.execute(t.audit.insert().values(**entry, status=201))

    await db.write(old_things)
    policy = RetentionPolicy()
    before = await count_expired(db, policy, NOW)
    # The old run's own log is 120 days old too: it counts as an old log. Every event but
    # the recent one is old by the frozen clock (the runs' state events were made today).
    events = await count(db, t.event)
    assert before == {"flow_runs": 1, "logs": 6, "events": events - 1, "audit": 1}

    deleted = await delete_expired(db, policy, NOW, batch=2)  # several small batches
    # The old run's log went with the run, before the logs' own pass.
    assert deleted == {**before, "logs": before["logs"] - 1}
    assert await count_expired(db, policy, NOW) == dict.fromkeys(before, 0)

    remaining = {r["id"] for r in (await client.post("/api/flow_runs/filter", json={})).json()}
    assert remaining == {recent_run, unfinished["id"]}
    assert old_run not in remaining
    task_runs = (await client.post("/api/task_runs/filter", json={})).json()
    assert {tr["flow_run_id"] for tr in task_runs} == {recent_run}
    states = await count(db, t.flow_run_state)
    async with db.read() as conn:
        orphans = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(t.flow_run_state)
            .where(t.flow_run_state.c.flow_run_id == uuid.UUID(old_run))
        )
    assert states > 0
    assert orphans == 0
    assert await count(db, t.log) == 2  # the recent run's log and the recent free log
    assert await count(db, t.event) == 1
    assert await count(db, t.audit) == 1  # the 300-day-old entry stays (365 days)
    # The artifact key's collection now points at the recent run's artifact.
    latest = (await client.get("/api/artifacts/report/latest")).json()
    assert latest["flow_run_id"] == recent_run


async def test_zero_days_keeps_forever_and_batches_are_bounded(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    db = app.state.db

    def logs(conn: sa.Connection) -> None:
        conn.execute(t.log.insert(), [log_row(OLD - dt.timedelta(seconds=i)) for i in range(7)])

    await db.write(logs)
    forever = RetentionPolicy(logs_days=0)
    assert (await count_expired(db, forever, NOW))["logs"] == 0
    assert (await delete_expired(db, forever, NOW))["logs"] == 0
    one_batch = await delete_expired(db, RetentionPolicy(), NOW, batch=3, max_batches=1)
    assert one_batch["logs"] == 3
    assert (await delete_expired(db, RetentionPolicy(), NOW, batch=3))["logs"] == 4


def test_vacuum_command(tmp_path: Path) -> None:
    env = baton_env(tmp_path / "home", BATON_RETENTION_LOGS_DAYS="7")
    assert run_baton("db", "upgrade", env=env).returncode == 0
    settings = Settings.from_env({"BATON_HOME": str(tmp_path / "home")})
    engine = sa.create_engine(f"sqlite:///{settings.home / 'baton.db'}")
    now = dt.datetime.now(dt.UTC)
    rows = [log_row(now - dt.timedelta(days=8))] * 1 + [log_row(now - dt.timedelta(days=9))]
    rows = [{**r, "id": uuid.uuid4()} for r in rows] + [log_row(now)]
    with engine.begin() as conn:
        conn.execute(t.log.insert(), rows)
    engine.dispose()

    dry = run_baton("db", "vacuum", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "Would delete 2 logs (older than 7 days)" in dry.stdout
    assert "Would delete 0 events (older than 30 days)" in dry.stdout
    done = run_baton("db", "vacuum", env=env)
    assert done.returncode == 0, done.stderr
    assert "Deleted 2 logs" in done.stdout
    again = run_baton("db", "vacuum", "--dry-run", env=env)
    assert "Would delete 0 logs" in again.stdout

    bad = run_baton("db", "vacuum", env={**env, "BATON_RETENTION_LOGS_DAYS": "a week"})
    assert bad.returncode == 1
    assert "BATON_RETENTION_LOGS_DAYS must be a number of days" in bad.stderr
    assert "Traceback" not in bad.stderr
