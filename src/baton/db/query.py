"""Reads on SQLite without SQLAlchemy's per-call machinery.

For a one-row read, SQLAlchemy's execute (cache key, execution context, result set-up)
and the BEGIN and ROLLBACK around it cost more than SQLite's work. A `Query` is compiled
once and its SQL goes straight to a read connection's driver, in SQLite's own implicit
transaction. The statement's columns must need no result processing (`runs.raw_select`
makes such statements), so the rows are what `conn.execute(...).all()` would return.
Other databases take SQLAlchemy's path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from baton.db.bulk import Processor, as_sqlalchemy_error, positional_plan

if TYPE_CHECKING:
    from baton.db.database import Database


class Query:
    """A SELECT built once, run with named parameters: `await Query(stmt).all(db, {...})`."""

    def __init__(self, stmt: sa.Select[Any]) -> None:
        self.stmt = stmt
        self._plan: tuple[str, tuple[str, ...], tuple[Processor, ...]] | None = None

    async def all(self, db: Database, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        async with db.read() as conn:
            if conn.dialect.name != "sqlite":
                result: Sequence[Sequence[Any]] = (await conn.execute(self.stmt, params)).all()
                return result
            sql, names, processors = self._plan or self._compile(conn.dialect)
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

    def _compile(self, dialect: Dialect) -> tuple[str, tuple[str, ...], tuple[Processor, ...]]:
        compiled: Any = self.stmt.compile(dialect=dialect)
        plan = positional_plan(compiled)
        if (
            compiled.positiontup is None
            or compiled.literal_execute_params
            or any(compiled.binds[n].expanding for n in plan[1])
        ):
            raise ValueError("a Query takes one value per parameter (no IN lists)")
        self._plan = plan
        return plan
