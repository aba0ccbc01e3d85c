"""Statements built once and run many times: how core runs its hot statements.

- `Statement(stmt).run(conn, params)` in a write job is `conn.execute(stmt, params)`, for
  no result (an INSERT, UPDATE or DELETE; one row of parameters or many);
- `await Statement(stmt).rows(db, params)` reads on a read connection what
  `conn.execute(stmt, params).all()` returns (for SELECTs of raw values, see below);
- `insert_rows(conn, table, columns, rows)` inserts tuples of values in `columns`' order.

Any other statement core runs with SQLAlchemy's own `conn.execute`.

The `statements` fast path (BATON_FAST_PATHS): on SQLite, SQLAlchemy's per-call work
(cache key, execution context, parameter processing, result set-up; for a read its BEGIN
and ROLLBACK too) costs more than SQLite's own for these small statements. So each is
compiled once per set of parameter names, every value goes through its column type's own
bind processor, and the SQL goes straight to the driver: what is stored, and what a read
returns, is exactly what `conn.execute` would store and return (tests/db/test_statements.py
holds them equal), and a driver error is raised as SQLAlchemy's. A read's statement must
select raw values (`sa.type_coerce(column, NullType())`), which need no result processing.
This reads SQLAlchemy's compiled form past its public API (`_bind_processors`,
`insert_prefetch`, `update_prefetch`, `effective_returning`, `positiontup`, `binds`), so
SQLAlchemy is pinned to the minor version tested (pyproject.toml). With the fast path off,
or on PostgreSQL, every call is SQLAlchemy's `conn.execute`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from baton.db.engine import FAST_STATEMENTS
from baton.db.types import Timestamp

if TYPE_CHECKING:
    from baton.db.database import Database


Processor = Callable[[Any], Any] | None
_Plan = tuple[str, tuple[str, ...], tuple[Processor, ...]]  # SQL, parameter names, processors


def fast_on(conn: sa.Connection) -> bool:
    return conn.dialect.name == "sqlite" and bool(conn.info.get(FAST_STATEMENTS))


class Statement:
    """A statement built once, run with named parameters (see the module docstring)."""

    def __init__(self, stmt: sa.Select[Any] | sa.Insert | sa.Update | sa.Delete) -> None:
        self.stmt = stmt
        self._plans: dict[tuple[str, ...], _Plan | None] = {}

    def run(
        self, conn: sa.Connection, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        """In a write job: run the statement once per row of `params`, for no result."""
        rows = [params] if isinstance(params, Mapping) else params
        if not rows:
            return
        plan = self._plan(tuple(rows[0]), conn.dialect) if fast_on(conn) else None
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

    async def rows(self, db: Database, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """The rows a SELECT of raw values returns, read on a read connection."""
        async with db.read() as conn:
            if not (db.fast_statements and conn.dialect.name == "sqlite"):
                result: Sequence[Sequence[Any]] = (await conn.execute(self.stmt, params)).all()
                return result
            plan = self._plan(tuple(params), conn.dialect)
            if plan is None:
                raise ValueError("a read takes one value per parameter (no IN lists)")
            sql, names, processors = plan
            values = tuple(
                params[n] if p is None else p(params[n])
                for n, p in zip(names, processors, strict=True)
            )
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            try:
                cursor = await driver.execute(sql, values)
                try:
                    rows: Sequence[Sequence[Any]] = await cursor.fetchall()
                finally:
                    await cursor.close()
            except conn.dialect.loaded_dbapi.Error as exc:
                raise as_sqlalchemy_error(conn.dialect, sql, values, exc) from exc
            return rows

    def _plan(self, keys: tuple[str, ...], dialect: Dialect) -> _Plan | None:
        """The statement compiled for these parameter names, or None when its compiled form
        needs more than the given parameters (Python-side defaults, values written into
        it, RETURNING, an IN list), which SQLAlchemy's own path handles."""
        if keys in self._plans:
            return self._plans[keys]
        compiled: Any = self.stmt.compile(dialect=dialect, column_keys=list(keys))
        plan = positional_plan(compiled)
        needs_more = (
            getattr(compiled, "insert_prefetch", None)
            or getattr(compiled, "update_prefetch", None)
            or getattr(compiled, "effective_returning", None)
            or compiled.positiontup is None
            or compiled.literal_execute_params
            or any(compiled.binds[n].expanding for n in plan[1])
            or not set(plan[1]) <= set(keys)
        )
        self._plans[keys] = None if needs_more else plan
        return self._plans[keys]


def insert_rows(
    conn: sa.Connection, table: sa.Table, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT `rows` (tuples of values in the order of `columns`) into `table`."""
    if not rows:
        return
    if not fast_on(conn):
        conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    sql, processors = _insert_plan(table, columns, conn.dialect)
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


@functools.cache
def _insert_plan(
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


def positional_plan(compiled: Any) -> _Plan:
    """A compiled statement's SQL, its parameters' names in order and their processors."""
    names = tuple(compiled.positiontup or ())
    processors = tuple(
        _faster(compiled.binds[n].type) or compiled._bind_processors.get(n) for n in names
    )
    return compiled.string, names, processors


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
