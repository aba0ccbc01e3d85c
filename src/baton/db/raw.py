"""Rows as the driver returns them, turned straight into the values the wire shows.

Lists of runs are the heaviest answers (the client and the UI ask for 200 at a time).
Letting SQLAlchemy turn every column into Python objects only for orjson to turn them
back into text costs most of such a request, so these reads select the raw driver values
(`raw_select`) and `wire_values` reshapes them in one pass: on SQLite, ids and times are
rewritten from their stored text and JSON documents are passed through as orjson
Fragments, never parsed; PostgreSQL's driver already returns objects orjson writes as the
wire wants them. This is SQLAlchemy's public API (a type coercion); it knows how each
column type is stored, which is why it lives here and not with the runs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast

import orjson
import sqlalchemy as sa

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
def _positions(table: sa.Table) -> tuple[tuple[int, ...], ...]:
    """Where the table's ids, times, JSON documents and booleans sit in a raw row."""
    kinds: dict[str, list[int]] = {"Uuid": [], "Timestamp": [], "JSONText": [], "Boolean": []}
    for i, column in enumerate(wire_columns(table)):
        kinds.get(type(column.type).__name__, []).append(i)
    return tuple(tuple(found) for found in kinds.values())


def wire_values(
    rows: Sequence[Sequence[Any]], table: sa.Table, dialect: str
) -> list[Sequence[Any]]:
    """Raw rows of `raw_select(table)` as rows of values orjson writes as the wire shows
    them: ids as "8-4-4-4-12" text, times as "2026-11-27T03:32:07.364200Z" (no fraction when
    it is zero, as orjson writes a datetime), JSON documents as they are stored."""
    if dialect != "sqlite" or not rows:
        return list(rows)
    ids, times, documents, flags = _positions(table)
    fragment = orjson.Fragment
    # Column by column: each conversion is one comprehension over a column, a fifth
    # cheaper than assigning into every row in turn.
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for i in ids:  # stored as 32 hex digits
        columns[i] = [
            None if v is None else f"{v[:8]}-{v[8:12]}-{v[12:16]}-{v[16:20]}-{v[20:]}"
            for v in columns[i]
        ]
    for i in times:  # stored as "2026-11-27 03:32:07.364200", UTC
        columns[i] = [
            None
            if v is None
            else v[:19].replace(" ", "T") + "Z"
            if v.endswith(".000000")
            else v.replace(" ", "T") + "Z"
            for v in columns[i]
        ]
    for i in documents:
        columns[i] = [None if v is None else fragment(v) for v in columns[i]]
    for i in flags:
        columns[i] = [None if v is None else bool(v) for v in columns[i]]
    return list(zip(*columns, strict=True))
