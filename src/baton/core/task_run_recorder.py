"""The task-run recorder: `prefect.task-run.*` events become task runs and their states.

The client orchestrates tasks itself and reports each state change only as an event, often
after the parent flow run has finished and not always in `occurred` order. So, for each
batch the event store flushes (inside its transaction):
- every event becomes a state row, keyed by the event id (a re-sent event is a no-op);
- each task run is upserted from its latest event in the batch, and an existing row is
  only overwritten by an event that occurred later than its current state.
Events naming a flow run the server does not have are dropped (it was deleted).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow
from baton.core.task_runs import POLICY_DEFAULTS
from baton.db import tables as t
from baton.db.dialect import insert
from baton.orchestration.rules import parse_time
from baton.orchestration.states import DEFAULT_NAMES, StateType, full_details
from baton.schemas.events import Record

log = logging.getLogger(__name__)

PREFIX = "prefect.task-run."
_TASK_RUN_ID = "prefect.task-run."
_FLOW_RUN_ID = "prefect.flow-run."
TR = t.task_run

# Columns an event may overwrite on an existing task run (not `created`).
_UPDATABLE = [c.name for c in TR.columns if c.name not in ("id", "created")]


def record_task_runs(conn: sa.Connection, events: list[Record]) -> None:
    """A store consumer: materialise the batch's task-run events."""
    parsed = [p for e in events if e["event"].startswith(PREFIX) if (p := _parse(e)) is not None]
    if not parsed:
        return
    flow_run_ids = {p["run"]["flow_run_id"] for p in parsed if p["run"]["flow_run_id"]}
    known = set()
    if flow_run_ids:
        rows = conn.execute(sa.select(t.flow_run.c.id).where(t.flow_run.c.id.in_(flow_run_ids)))
        known = set(rows.scalars())
    parsed = [p for p in parsed if p["run"]["flow_run_id"] in known or not p["run"]["flow_run_id"]]
    if not parsed:
        return

    now = utcnow()
    latest: dict[uuid.UUID, dict[str, Any]] = {}
    for p in sorted(parsed, key=lambda p: p["run"]["state_timestamp"]):
        latest[p["run"]["id"]] = {**p["run"], "created": now, "updated": now}

    stmt = insert(conn, TR)
    stmt = stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={name: stmt.excluded[name] for name in _UPDATABLE},
        # Out-of-order arrival: an older event never replaces a newer state.
        where=sa.or_(
            TR.c.state_timestamp.is_(None), TR.c.state_timestamp <= stmt.excluded.state_timestamp
        ),
    )
    conn.execute(stmt, list(latest.values()))
    conn.execute(
        insert(conn, t.task_run_state).on_conflict_do_nothing(index_elements=["id"]),
        [p["state"] for p in parsed],
    )


def _parse(event: Record) -> dict[str, Any] | None:
    """The task-run row and state row one event describes, or None if it is not usable."""
    try:
        resource = event["resource"]
        run_id = uuid.UUID(resource["prefect.resource.id"].removeprefix(_TASK_RUN_ID))
        flow_run_id = None
        for related in event["related"]:
            if related.get("prefect.resource.role") == "flow-run":
                flow_run_id = uuid.UUID(related["prefect.resource.id"].removeprefix(_FLOW_RUN_ID))
        payload = event["payload"]
        info = payload["task_run"]
        validated = payload["validated_state"]
        kind = StateType(validated["type"])
        occurred: dt.datetime = event["occurred"]
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("skipping malformed task-run event %s: %r", event.get("id"), exc)
        return None
    details = full_details(
        validated.get("state_details"),
        flow_run_id=str(flow_run_id) if flow_run_id else None,
        task_run_id=str(run_id),
    )
    state = {
        "id": event["id"],
        "created": utcnow(),
        "task_run_id": run_id,
        "type": kind.value,
        "name": validated.get("name") or DEFAULT_NAMES[kind],
        "timestamp": occurred,
        "message": validated.get("message"),
        "state_details": details,
        "data": validated.get("data"),
    }
    scheduled = parse_time(details.get("scheduled_time")) if kind == StateType.SCHEDULED else None
    run = {
        "id": run_id,
        "name": info.get("name") or resource.get("prefect.resource.name") or "task",
        "flow_run_id": flow_run_id,
        "task_key": info.get("task_key") or "",
        "dynamic_key": str(info.get("dynamic_key") or ""),
        "cache_key": details.get("cache_key"),
        "cache_expiration": parse_time(details.get("cache_expiration")),
        "task_version": info.get("task_version"),
        "empirical_policy": {**POLICY_DEFAULTS, **(info.get("empirical_policy") or {})},
        "tags": info.get("tags") or [],
        "labels": info.get("labels") or {},
        "task_inputs": info.get("task_inputs") or {},
        "state_id": event["id"],
        "state_type": kind.value,
        "state_name": state["name"],
        "state_timestamp": occurred,
        "state_message": state["message"],
        "state_details": details,
        "state_data": state["data"],
        "run_count": int(info.get("run_count") or 0),
        "flow_run_run_count": int(info.get("flow_run_run_count") or 0),
        "expected_start_time": parse_time(info.get("expected_start_time")),
        "next_scheduled_start_time": scheduled,
        "start_time": parse_time(info.get("start_time")),
        "end_time": parse_time(info.get("end_time")),
        "total_run_time": float(info.get("total_run_time") or 0.0),
    }
    return {"run": run, "state": state}
