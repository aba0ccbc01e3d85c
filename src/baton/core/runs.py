"""What flow runs and task runs share: their current-state columns, state rows, timing, and
the shape of a run on the wire."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from baton.core.clock import uuid7
from baton.orchestration.rules import ProposedState
from baton.orchestration.states import StateType, full_details
from baton.orchestration.timing import Timing, estimated_run_time, estimated_start_time_delta

# A run or state row as read (a RowMapping) or built in Python (a dict).
Row = Mapping[Any, Any]

STATE_COLUMNS = (
    "state_id",
    "state_type",
    "state_name",
    "state_timestamp",
    "state_message",
    "state_details",
    "state_data",
)
TIMING_COLUMNS = (
    "run_count",
    "start_time",
    "end_time",
    "total_run_time",
    "expected_start_time",
    "next_scheduled_start_time",
)


def new_state_row(
    state: ProposedState, now: dt.datetime, **detail_overrides: Any
) -> dict[str, Any]:
    """A state as stored: server id and timestamp, every detail key filled."""
    return {
        "id": uuid7(),
        "type": state.type.value,
        "name": state.name,
        "timestamp": now,
        "message": state.message,
        "state_details": full_details(state.details, **detail_overrides),
        "data": state.data,
    }


def current_state_columns(state: Row) -> dict[str, Any]:
    """The run columns that mirror its current state."""
    return {
        "state_id": state["id"],
        "state_type": state["type"],
        "state_name": state["name"],
        "state_timestamp": state["timestamp"],
        "state_message": state["message"],
        "state_details": state["state_details"],
        "state_data": state["data"],
    }


def timing_of(row: Row) -> Timing:
    return Timing(**{name: row[name] for name in TIMING_COLUMNS})


def timing_columns(timing: Timing) -> dict[str, Any]:
    return {name: getattr(timing, name) for name in TIMING_COLUMNS}


def state_type_of(row: Row) -> StateType | None:
    value = row["state_type"]
    return None if value is None else StateType(value)


def state_out(row: Row) -> dict[str, Any] | None:
    """The current state of a run row, as the wire shows it."""
    if row["state_id"] is None:
        return None
    return {
        "id": row["state_id"],
        "type": row["state_type"],
        "name": row["state_name"],
        "timestamp": row["state_timestamp"],
        "message": row["state_message"],
        "data": row["state_data"],
        "state_details": row["state_details"],
    }


def history_state_out(row: Row) -> dict[str, Any]:
    """A row of a *_run_state table, as the wire shows it."""
    return {
        "id": row["id"],
        "type": row["type"],
        "name": row["name"],
        "timestamp": row["timestamp"],
        "message": row["message"],
        "data": row["data"],
        "state_details": row["state_details"],
    }


def run_out(row: Row, now: dt.datetime) -> dict[str, Any]:
    """Columns of a run row plus its state and the estimates, minus the state_* columns."""
    out = {k: v for k, v in row.items() if k not in STATE_COLUMNS or k in ("state_id",)}
    out["state_type"] = row["state_type"]
    out["state_name"] = row["state_name"]
    out["state"] = state_out(row)
    timing = timing_of(row)
    kind = state_type_of(row)
    out["estimated_run_time"] = estimated_run_time(timing, kind, row["state_timestamp"], now)
    out["estimated_start_time_delta"] = estimated_start_time_delta(timing, kind, now)
    out["labels"] = row["labels"] or {}
    return out


def insert_history(
    conn: sa.Connection,
    table: sa.Table,
    run_column: str,
    run_id: uuid.UUID,
    state: dict[str, Any],
    now: dt.datetime,
) -> None:
    """Append `state` to a run's history (parameters only: the statement is compiled once)."""
    conn.execute(table.insert(), {"created": now, run_column: run_id, **state})


def update_by_id(table: sa.Table) -> sa.Update:
    """UPDATE … WHERE id = :_id, its SET columns given by the execute parameters."""
    return table.update().where(table.c.id == sa.bindparam("_id"))
