"""Migration 0006's index serves what the API runs: a work queue's slots in use (its runs
Pending, Running or Cancelling), counted whenever queues are read, are found on
(work_queue_id, state_type) from the index alone. SQLite plans without statistics (a Baton
database is never analysed), and before the index it walked every run the queue ever had
on (work_queue_id, next_scheduled_start_time), reading each run's row for its state."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import event

INDEX = "ix_flow_run__work_queue_id_state_type"


async def test_queue_slots_are_counted_on_the_queue_state_index(
    app: FastAPI, client: AsyncClient
) -> None:
    db = app.state.db
    if db.url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL plans from its statistics; SQLite from the indexes alone")
    created = await client.post("/api/work_pools/", json={"name": "busy", "type": "process"})
    assert created.status_code == 201, created.text

    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    engine = db._read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        found = await client.post("/api/work_pools/busy/queues/filter", json={})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert found.status_code == 200, found.text
    assert [q["name"] for q in found.json()] == ["default"]
    [(statement, params)] = [
        (s, p) for s, p in seen if "GROUP BY flow_run.work_queue_id" in s
    ]  # the queues' slot count, as the API ran it

    async with db.read() as conn:
        plan = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()
    details = " / ".join(str(row[-1]) for row in plan)
    assert f"COVERING INDEX {INDEX}" in details, details
