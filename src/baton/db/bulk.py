"""Many rows into one table in one statement, cheaply.

For a batch of logs or events, SQLAlchemy's executemany spends more time preparing each
row's parameters than SQLite spends storing it. On SQLite the statement is compiled once
per (table, columns) and each value goes through its column type's own bind processor,
then straight to the driver's executemany: the stored values are exactly what
`conn.execute(table.insert(), rows)` would store. Other databases take that usual path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any] | None


@functools.cache
def _plan(
    table: sa.Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[Processor, ...]]:
    names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    table_name = dialect.identifier_preparer.format_table(table)
    sql = f"INSERT INTO {table_name} ({names}) VALUES ({marks})"
    return sql, tuple(
        table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns
    )


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
    params = [
        tuple(
            value if process is None else process(value)
            for process, value in zip(processors, row, strict=True)
        )
        for row in rows
    ]
    conn.exec_driver_sql(sql, params)
