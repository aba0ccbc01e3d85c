"""What flow runs and task runs share: their current-state columns, state rows, timing, and
the shape of a run on the wire."""

from __future__ import annotations

import datetime as dt
import functools
import operator
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.clock import uuid7
from baton.db import raw
from baton.db.database import Database
from baton.db.statements import Statement
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
    """Columns of a run row plus its state and the estimates, minus the state_* columns.
    The reference for `wire_runs`, which lists runs from raw rows (a test holds them equal)."""
    out = {
        k: v
        for k, v in row.items()
        if (k not in STATE_COLUMNS or k == "state_id") and k not in raw.INTERNAL_COLUMNS
    }
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
    _history_insert(table).run(conn, {"created": now, run_column: run_id, **state})


@functools.cache
def _history_insert(table: sa.Table) -> Statement:
    return Statement(table.insert())


def update_by_id(table: sa.Table) -> sa.Update:
    """UPDATE … WHERE id = :_id, its SET columns given by the execute parameters."""
    return table.update().where(table.c.id == sa.bindparam("_id"))


# --- lists of runs ----------------------------------------------------------------------
#
# Lists of runs are the heaviest answers: they are read as raw values (db/raw.py), and each
# run is shaped here from those, its state nested and its estimates worked out from the
# few times they need. `run_out` stays the reference: tests/db/test_run_encoding.py holds
# both to the same JSON.


@functools.cache
def _shape(table: sa.Table) -> tuple[tuple[str, ...], Callable[[Sequence[Any]], tuple[Any, ...]]]:
    """The names of a listed run's top-level columns (not the state_* ones the state nests)
    and a getter of their values from a row of `wire_values`."""
    names = raw.wire_names(table)
    kept = [i for i, name in enumerate(names) if name not in STATE_COLUMNS[3:]]
    return tuple(names[i] for i in kept), operator.itemgetter(*kept)


@functools.cache
def _index(table: sa.Table) -> dict[str, int]:
    return {name: i for i, name in enumerate(raw.wire_names(table))}


def wire_runs(
    rows: Sequence[Sequence[Any]], table: sa.Table, dialect: str, now: dt.datetime
) -> list[dict[str, Any]]:
    """Raw rows selected with `raw.raw_select(table)` → runs as the wire shows them.

    The estimates repeat `estimated_run_time` and `estimated_start_time_delta` inline,
    reading only the times they need."""
    names, top = _shape(table)
    at = _index(table)
    state_id, state_type, state_name = at["state_id"], at["state_type"], at["state_name"]
    state_time, message, data = at["state_timestamp"], at["state_message"], at["state_data"]
    details, labels = at["state_details"], at["labels"]
    start_at, expected_at, total_at = (
        at["start_time"],
        at["expected_start_time"],
        at["total_run_time"],
    )
    out = []
    for stored, values in zip(rows, raw.wire_values(rows, table, dialect), strict=True):
        kind = values[state_type]
        start, expected = values[start_at], values[expected_at]
        if start is not None and expected is not None:
            delta = max(0.0, (_time(start) - _time(expected)).total_seconds())
        elif start is None and expected is not None and kind in _NOT_STARTED:
            late = (now - _time(expected)).total_seconds()
            delta = late if late > 0 else 0.0
        else:
            delta = 0.0
        run_time = values[total_at]
        if kind == "RUNNING" and values[state_time] is not None:
            run_time += max(0.0, (now - _time(values[state_time])).total_seconds())
        run = dict(zip(names, top(values), strict=True))
        run["state"] = (
            None
            if values[state_id] is None
            else {
                "id": values[state_id],
                "type": kind,
                "name": values[state_name],
                "timestamp": values[state_time],
                "message": values[message],
                "data": values[data],
                "state_details": values[details],
            }
        )
        run["estimated_run_time"] = run_time
        run["estimated_start_time_delta"] = delta
        if stored[labels] is None or stored[labels] == "null":
            run["labels"] = {}
        out.append(run)
    return out


_NOT_STARTED = (None, "SCHEDULED", "PENDING")


def _time(value: str | dt.datetime) -> dt.datetime:
    """A time as `wire_values` gives it: wire text ("…Z") on SQLite, a datetime elsewhere."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


async def list_runs(
    conn: AsyncConnection,
    table: sa.Table,
    where: Sequence[sa.ColumnElement[bool]],
    order: Sequence[sa.ColumnElement[Any]] = (),
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Runs of `table` matching `where`, as the wire shows them."""
    stmt = raw.raw_select(table).where(*where).order_by(*order)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    rows = (await conn.execute(stmt)).all()
    return wire_runs(rows, table, conn.dialect.name, dt.datetime.now(dt.UTC))


@functools.cache
def _by_id(table: sa.Table) -> Statement:
    by_id = table.c.id == sa.bindparam("id", type_=table.c.id.type)
    return Statement(raw.raw_select(table).where(by_id))


async def read_run(db: Database, table: sa.Table, run_id: uuid.UUID) -> dict[str, Any] | None:
    """One run of `table` by id, as the wire shows it, or None."""
    rows = await _by_id(table).rows(db, {"id": run_id})
    if not rows:
        return None
    return wire_runs(rows, table, db.dialect, dt.datetime.now(dt.UTC))[0]


async def read_history(
    conn: AsyncConnection, table: sa.Table, run_column: str, run_id: uuid.UUID
) -> list[dict[str, Any]]:
    """A run's states, oldest first."""
    query = (
        sa.select(table)
        .where(table.c[run_column] == run_id)
        .order_by(table.c.timestamp, table.c.id)
    )
    return [history_state_out(row) for row in (await conn.execute(query)).mappings()]


async def read_history_state(
    conn: AsyncConnection, table: sa.Table, state_id: uuid.UUID
) -> dict[str, Any] | None:
    row = (await conn.execute(sa.select(table).where(table.c.id == state_id))).mappings().first()
    return None if row is None else history_state_out(row)
