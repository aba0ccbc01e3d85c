"""What flow runs and task runs share: their current-state columns, state rows, timing, and
the shape of a run on the wire."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.clock import uuid7
from baton.db.bulk import Dml
from baton.db.database import Database
from baton.db.query import Query
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
    out = {
        k: v
        for k, v in row.items()
        if (k not in STATE_COLUMNS or k == "state_id") and k not in INTERNAL_COLUMNS
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
    _history_insert(table).execute(conn, {"created": now, run_column: run_id, **state})


@functools.cache
def _history_insert(table: sa.Table) -> Dml:
    return Dml(table.insert())


def update_by_id(table: sa.Table) -> sa.Update:
    """UPDATE … WHERE id = :_id, its SET columns given by the execute parameters."""
    return table.update().where(table.c.id == sa.bindparam("_id"))


# --- the fast path for listing runs -----------------------------------------------------
#
# Lists of runs are the heaviest answers (the client and UI ask for 200 at a time). Letting
# SQLAlchemy turn every column into Python objects only for orjson to turn them back into
# text costs most of the time, so lists select the raw driver values and encode them here:
# on SQLite, ids and timestamps are reshaped as text and JSON documents are passed through
# as orjson Fragments, never parsed. `run_out` stays the reference: a test checks both give
# the same JSON.

_UTC = dt.UTC


# Columns the server keeps for itself, never shown on the wire.
INTERNAL_COLUMNS = frozenset({"claimed_until"})


@functools.cache
def wire_columns(table: sa.Table) -> tuple[sa.Column[Any], ...]:
    return tuple(c for c in table.columns if c.name not in INTERNAL_COLUMNS)


@functools.cache
def wire_names(table: sa.Table) -> tuple[str, ...]:
    return tuple(c.name for c in wire_columns(table))


@functools.cache
def raw_select(table: sa.Table) -> sa.Select[Any]:
    """SELECT of the table's wire columns without result processing (raw driver values).
    Built once per table: building it costs more than the query it runs."""
    columns = [sa.type_coerce(c, sa.types.NullType()).label(c.name) for c in wire_columns(table)]
    return cast("sa.Select[Any]", sa.select(*columns))


@functools.cache
def _kinds(table: sa.Table) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {"uuid": [], "time": [], "json": [], "bool": []}
    for column in wire_columns(table):
        kind = type(column.type).__name__
        if kind == "Uuid":
            kinds["uuid"].append(column.name)
        elif kind == "Timestamp":
            kinds["time"].append(column.name)
        elif kind == "JSONText":
            kinds["json"].append(column.name)
        elif kind == "Boolean":
            kinds["bool"].append(column.name)
    return kinds


def _sqlite_time(value: str) -> str:
    """'2026-11-27 03:32:07.364200' as the wire shows a UTC time: '2026-11-27T03:32:07.3642Z'
    (orjson's spelling: microseconds dropped when zero)."""
    if value.endswith(".000000"):
        value = value[:-7]
    return f"{value[:10]}T{value[11:]}Z"


def _parse_sqlite_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).replace(tzinfo=_UTC)


def encode_runs(
    rows: Sequence[Sequence[Any]], table: sa.Table, dialect: str, now: dt.datetime
) -> list[dict[str, Any]]:
    """Raw rows selected with `raw_select(table)` → runs as the wire shows them.

    The estimates repeat `estimated_run_time` and `estimated_start_time_delta` inline,
    parsing only the times they need; tests/db/test_run_encoding.py holds them equal.
    """
    names = wire_names(table)
    kinds = _kinds(table)
    sqlite = dialect == "sqlite"
    parse = _parse_sqlite_time if sqlite else _same
    out = []
    for raw in rows:
        row = dict(zip(names, raw, strict=True))
        kind = row["state_type"]
        start, expected = row["start_time"], row["expected_start_time"]
        if start is not None and expected is not None:
            delta = max(0.0, (parse(start) - parse(expected)).total_seconds())
        elif start is None and expected is not None and kind in _NOT_STARTED:
            late = (now - parse(expected)).total_seconds()
            delta = late if late > 0 else 0.0
        else:
            delta = 0.0
        run_time = row["total_run_time"]
        if kind == "RUNNING" and row["state_timestamp"] is not None:
            run_time += max(0.0, (now - parse(row["state_timestamp"])).total_seconds())
        no_labels = row["labels"] in (None, "null")
        if sqlite:
            for name in kinds["uuid"]:
                if (v := row[name]) is not None:
                    row[name] = f"{v[:8]}-{v[8:12]}-{v[12:16]}-{v[16:20]}-{v[20:]}"
            for name in kinds["time"]:
                if (v := row[name]) is not None:
                    row[name] = _sqlite_time(v)
            for name in kinds["json"]:
                if (v := row[name]) is not None:
                    row[name] = orjson.Fragment(v)
            for name in kinds["bool"]:
                if (v := row[name]) is not None:
                    row[name] = bool(v)
        row["state"] = state_out(row)
        for name in STATE_COLUMNS[3:]:
            del row[name]
        row["estimated_run_time"] = run_time
        row["estimated_start_time_delta"] = delta
        if no_labels:
            row["labels"] = {}
        out.append(row)
    return out


_NOT_STARTED = (None, "SCHEDULED", "PENDING")


def _same(value: Any) -> Any:
    return value


async def list_runs(
    conn: AsyncConnection,
    table: sa.Table,
    where: Sequence[sa.ColumnElement[bool]],
    order: Sequence[sa.ColumnElement[Any]] = (),
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Runs of `table` matching `where`, encoded for the wire (the fast path)."""
    stmt = raw_select(table).where(*where).order_by(*order)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    rows = (await conn.execute(stmt)).all()
    return encode_runs(rows, table, conn.dialect.name, dt.datetime.now(_UTC))


@functools.cache
def _by_id(table: sa.Table) -> Query:
    return Query(raw_select(table).where(table.c.id == sa.bindparam("id", type_=table.c.id.type)))


async def read_run(db: Database, table: sa.Table, run_id: uuid.UUID) -> dict[str, Any] | None:
    """One run of `table` by id, encoded for the wire, or None."""
    rows = await _by_id(table).all(db, {"id": run_id})
    if not rows:
        return None
    return encode_runs(rows, table, db.dialect, dt.datetime.now(_UTC))[0]


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
