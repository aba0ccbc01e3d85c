"""Writes on SQLite without SQLAlchemy's per-call machinery.

For a batch of logs, SQLAlchemy's executemany spends more time preparing each row's
parameters than SQLite spends storing it; for a state change, its per-statement work
(execution context, parameter building, events, result set-up) costs more than the
four small statements themselves. On SQLite these statements are compiled once, each
value goes through its column type's own bind processor, and the driver runs the SQL:
the stored values are exactly what `conn.execute(...)` would store, and a driver error
is raised as SQLAlchemy's. Other databases take that usual path.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from baton.db.types import Timestamp

Processor = Callable[[Any], Any] | None


@functools.cache
def _plan(
    table: sa.Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[Processor, ...]]:
    names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    table_name = dialect.identifier_preparer.format_table(table)
    sql = f"INSERT INTO {table_name} ({names}) VALUES ({marks})"
    return sql, tuple(_processor(table.c[c].type, dialect) for c in columns)


def _processor(column_type: sa.types.TypeEngine[Any], dialect: Dialect) -> Processor:
    return _faster(column_type) or column_type.dialect_impl(dialect).bind_processor(dialect)


def _faster(column_type: sa.types.TypeEngine[Any]) -> Processor:
    """Our own processor where it beats SQLAlchemy's chain (same stored text), else None."""
    if isinstance(column_type, Timestamp):
        return _sqlite_timestamp  # a fifth of the cost of its two bind processors in a row
    return None


def _sqlite_timestamp(value: dt.datetime | None) -> str | None:
    """A UTC timestamp as SQLAlchemy's SQLite DATETIME stores it: "2026-01-02 03:04:05.000006"."""
    if value is None:
        return None
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"naive datetime {value!r} given to a UTC timestamp column")
    if offset:
        value -= offset  # the UTC wall time; its own offset is cut off below
    return value.isoformat(" ", "microseconds")[:26]


def insert_many(
    conn: sa.Connection, table: sa.Table, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT `rows` (tuples of values in the order of `columns`) into `table`."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    sql, processors = _plan(table, columns, conn.dialect)
    # Column by column, each distinct value processed once: a batch's rows share their
    # created/updated time and mostly their run, and the loops over the rows stay in C.
    values = list(zip(*rows, strict=True))
    if len(values) != len(columns):
        raise ValueError(f"rows of {len(values)} values for {len(columns)} columns")
    for i, process in enumerate(processors):
        if process is None:
            continue
        try:
            processed = {value: process(value) for value in dict.fromkeys(values[i])}
        except TypeError:  # unhashable values (JSON documents): each on its own
            values[i] = tuple(map(process, values[i]))
        else:
            values[i] = tuple(map(processed.__getitem__, values[i]))
    _run(conn, sql, list(zip(*values, strict=True)))


def _run(conn: sa.Connection, sql: str, params: list[tuple[Any, ...]]) -> None:
    """`sql` on the driver (one row or many); its errors raised as SQLAlchemy's."""
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        if len(params) == 1:
            driver.execute(sql, params[0])
        else:
            driver.executemany(sql, params)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise as_sqlalchemy_error(conn.dialect, sql, params, exc) from exc


def as_sqlalchemy_error(dialect: Dialect, sql: str, params: Any, exc: Exception) -> Exception:
    """A driver error as SQLAlchemy's execute would have raised it."""
    return sa.exc.DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error, dialect=dialect)


def positional_plan(compiled: Any) -> tuple[str, tuple[str, ...], tuple[Processor, ...]]:
    """A compiled statement's SQL, its parameters' names in order and their processors."""
    names = tuple(compiled.positiontup or ())
    processors = tuple(
        _faster(compiled.binds[n].type) or compiled._bind_processors.get(n) for n in names
    )
    return compiled.string, names, processors


class Dml:
    """An INSERT, UPDATE or DELETE built once and run with parameters, for no result.

    `Dml(t.event.insert()).execute(conn, rows)` is `conn.execute(t.event.insert(), rows)`.
    A statement whose compiled form needs more than the given parameters (Python-side
    defaults, values written into it, RETURNING) simply takes SQLAlchemy's path.
    """

    def __init__(self, stmt: sa.Insert | sa.Update | sa.Delete) -> None:
        self.stmt = stmt
        self._plans: dict[tuple[str, ...], _DmlPlan | None] = {}

    def execute(
        self, conn: sa.Connection, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        rows = [params] if isinstance(params, Mapping) else params
        if not rows:
            return
        if conn.dialect.name != "sqlite":
            conn.execute(self.stmt, params)
            return
        keys = tuple(rows[0])
        plan = self._plans[keys] if keys in self._plans else self._plan(keys, conn.dialect)
        if plan is None:
            conn.execute(self.stmt, params)
            return
        sql, names, processors = plan
        values = [
            tuple(
                row[n] if p is None else p(row[n]) for n, p in zip(names, processors, strict=True)
            )
            for row in rows
        ]
        _run(conn, sql, values)

    def _plan(self, keys: tuple[str, ...], dialect: Dialect) -> _DmlPlan | None:
        compiled: Any = self.stmt.compile(dialect=dialect, column_keys=list(keys))
        plan = positional_plan(compiled)
        needs_more = (
            compiled.insert_prefetch
            or compiled.update_prefetch
            or compiled.effective_returning
            or compiled.positiontup is None
            or not set(plan[1]) <= set(keys)
        )
        self._plans[keys] = None if needs_more else plan
        return self._plans[keys]


_DmlPlan = tuple[str, tuple[str, ...], tuple[Processor, ...]]
