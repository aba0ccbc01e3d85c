"""Pieces the UI's queries share: the columns of a run row, keyset cursors, capped counts."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.db import tables as t

FR = t.flow_run
# Counts stop here: "10,000+" is as useful as an exact figure and costs a bounded scan.
COUNT_CAP = 10_000


def is_state(column: sa.ColumnElement[Any], *values: str) -> sa.ColumnElement[bool]:
    """`column` is one of the constant `values` (state types or names), written into the
    SQL rather than bound. asyncpg prepares every statement, and after five runs PostgreSQL
    may keep a generic plan of it, made without the bound values: not knowing that the state
    asked for is, say, SCHEDULED (3% of runs), it walked the time index over every run past
    (130 ms at 100,000 runs) instead of the state's own range of the (state_type,
    expected_start_time) index (0.3 ms). A constant in the text keeps that knowledge in
    every plan; the values are the UI's own constants, never user input."""
    if len(values) == 1:
        return column == sa.literal(values[0], literal_execute=True)
    return column.in_(sa.bindparam(None, list(values), expanding=True, literal_execute=True))


def run_columns() -> list[sa.ColumnElement[Any]]:
    """A flow run as lists show it, with its flow's and deployment's names (joins on keys)."""
    return [
        FR.c.id,
        FR.c.name,
        FR.c.flow_id,
        t.flow.c.name.label("flow_name"),
        FR.c.deployment_id,
        t.deployment.c.name.label("deployment_name"),
        FR.c.state_type,
        FR.c.state_name,
        FR.c.state_timestamp,
        FR.c.expected_start_time,
        FR.c.start_time,
        FR.c.end_time,
        FR.c.total_run_time,
        FR.c.tags,
        FR.c.work_pool_name,
        FR.c.parent_task_run_id,
    ]


def run_from() -> sa.FromClause:
    return FR.join(t.flow, t.flow.c.id == FR.c.flow_id).outerjoin(
        t.deployment, t.deployment.c.id == FR.c.deployment_id
    )


def run_dict(row: Any, now: dt.datetime) -> dict[str, Any]:
    """A run row plus its duration so far (run time, with the running part up to now)."""
    run = dict(row._mapping)
    seconds = run["total_run_time"] or 0.0
    if run["state_type"] == "RUNNING" and run["state_timestamp"] is not None:
        seconds += max(0.0, (now - run["state_timestamp"]).total_seconds())
    run["duration"] = seconds
    return run


async def select_runs(
    conn: AsyncConnection,
    where: Sequence[sa.ColumnElement[bool]],
    order: Sequence[sa.ColumnElement[Any]],
    limit: int,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    stmt = sa.select(*run_columns()).select_from(run_from()).where(*where).order_by(*order)
    rows = (await conn.execute(stmt.limit(limit))).all()
    return [run_dict(r, now) for r in rows]


async def capped_count(conn: AsyncConnection, table: sa.Table, where: Sequence[Any]) -> int:
    """How many rows match, counting at most COUNT_CAP + 1."""
    inner = sa.select(sa.literal(1)).select_from(table).where(*where).limit(COUNT_CAP + 1)
    return int(await conn.scalar(sa.select(sa.func.count()).select_from(inner.subquery())) or 0)


# --- keyset cursors ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A position in an ordered list: the sort value and id of a row."""

    value: Any
    id: uuid.UUID

    def encode(self) -> str:
        value = self.value
        if isinstance(value, dt.datetime):
            value = {"t": value.isoformat()}
        raw = orjson.dumps([value, str(self.id)])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        if not raw:
            return None
        try:
            value, ident = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            if isinstance(value, dict):
                value = dt.datetime.fromisoformat(value["t"])
            return cls(value, uuid.UUID(ident))
        except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
            return None


def after_clause(
    column: sa.ColumnElement[Any], id_column: sa.ColumnElement[Any], cursor: Cursor, desc: bool
) -> sa.ColumnElement[bool]:
    """Rows strictly after `cursor` in (column, id) order, spelled so both databases can
    range-scan the index on `column` (no row-value comparison)."""
    if desc:
        return sa.and_(
            column <= cursor.value,
            sa.or_(column < cursor.value, id_column < cursor.id),
        )
    return sa.and_(column >= cursor.value, sa.or_(column > cursor.value, id_column > cursor.id))


@dataclass(frozen=True)
class Page:
    """One page of a keyset-paged list, with the cursors of its neighbours."""

    rows: list[dict[str, Any]]
    next: str | None  # cursor for ?after=
    prev: str | None  # cursor for ?before=
    first: bool


def page_of(
    rows: list[dict[str, Any]],
    limit: int,
    key: str,
    backwards: bool,
    had_cursor: bool,
) -> Page:
    """Turn `limit + 1` rows read forwards (or backwards, for ?before=) into a page."""
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    if not rows:
        return Page([], None, None, not had_cursor)

    def cursor(row: dict[str, Any]) -> str:
        return Cursor(row[key], row["id"]).encode()

    if backwards:
        return Page(rows, cursor(rows[-1]), cursor(rows[0]) if more else None, not more)
    first = not had_cursor
    return Page(rows, cursor(rows[-1]) if more else None, None if first else cursor(rows[0]), first)
