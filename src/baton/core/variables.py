"""Variables: named JSON values with tags, unique by name."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.clock import utcnow, uuid7
from baton.core import filters
from baton.db import tables as t
from baton.db.database import Database
from baton.db.dialect import insert
from baton.errors import Conflict, NotFound
from baton.schemas.filters import DEFAULT_LIMIT
from baton.schemas.variables import VariableFilter, VariableSort

_COLUMNS = (
    t.variable.c.id,
    t.variable.c.created,
    t.variable.c.updated,
    t.variable.c.name,
    t.variable.c.value,
    t.variable.c.tags,
)

_SORTS: dict[VariableSort, tuple[sa.ColumnElement[object], ...]] = {
    VariableSort.CREATED_DESC: (t.variable.c.created.desc(), t.variable.c.id.desc()),
    VariableSort.UPDATED_DESC: (t.variable.c.updated.desc(), t.variable.c.id.desc()),
    VariableSort.NAME_ASC: (t.variable.c.name.asc(),),
    VariableSort.NAME_DESC: (t.variable.c.name.desc(),),
}

NOT_FOUND = "Variable not found."

# A variable is addressed by id or by name.
Ref = uuid.UUID | str


def _exists(name: str) -> Conflict:
    return Conflict(f"A variable with the name {name!r} already exists.")


def _match(ref: Ref) -> sa.ColumnElement[bool]:
    if isinstance(ref, uuid.UUID):
        return t.variable.c.id == ref
    return t.variable.c.name == ref


async def create_variable(db: Database, name: str, value: Any, tags: list[str]) -> dict[str, Any]:
    def job(conn: sa.Connection) -> dict[str, Any] | None:
        now = utcnow()
        stmt = (
            insert(conn, t.variable)
            .values(id=uuid7(), created=now, updated=now, name=name, value=value, tags=tags)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(*_COLUMNS)
        )
        row = (conn.execute(stmt)).mappings().first()
        return None if row is None else dict(row)

    variable = await db.write(job)
    if variable is None:
        raise _exists(name)
    return variable


async def read_variable(db: Database, ref: Ref) -> dict[str, Any]:
    async with db.read() as conn:
        row = (await conn.execute(sa.select(*_COLUMNS).where(_match(ref)))).mappings().first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return dict(row)


async def update_variable(db: Database, ref: Ref, changes: dict[str, Any]) -> None:
    """Apply a partial update (name, value, tags); renaming onto a taken name is a conflict."""

    def job(conn: sa.Connection) -> bool:
        stmt = (
            sa.update(t.variable)
            .where(_match(ref))
            .values(**changes, updated=utcnow())
            .returning(t.variable.c.id)
        )
        if "name" not in changes:
            return (conn.execute(stmt)).first() is not None
        try:
            # The savepoint keeps the transaction usable after a unique-name violation.
            with conn.begin_nested():
                return (conn.execute(stmt)).first() is not None
        except sa_exc.IntegrityError:
            raise _exists(changes["name"]) from None

    if not await db.write(job):
        raise NotFound(NOT_FOUND)


async def delete_variable(db: Database, ref: Ref) -> None:
    def job(conn: sa.Connection) -> bool:
        stmt = sa.delete(t.variable).where(_match(ref)).returning(t.variable.c.id)
        return (conn.execute(stmt)).first() is not None

    if not await db.write(job):
        raise NotFound(NOT_FOUND)


def _where(conn: AsyncConnection, flt: VariableFilter | None) -> filters.Clause:
    if flt is None:
        return sa.true()
    c = t.variable.c
    return filters.combine(
        flt.operator,
        [
            *filters.ids(c.id, flt.id),
            *filters.text(c.name, flt.name),
            *filters.tags(c.tags, flt.tags, conn.dialect.name),
        ],
    )


async def filter_variables(
    db: Database,
    flt: VariableFilter | None,
    sort: VariableSort | None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> list[dict[str, Any]]:
    async with db.read() as conn:
        stmt = (
            sa.select(*_COLUMNS)
            .where(_where(conn, flt))
            .order_by(*_SORTS[sort or VariableSort.CREATED_DESC])
            .limit(limit)
            .offset(offset)
        )
        rows = (await conn.execute(stmt)).mappings().all()
    return [dict(row) for row in rows]


async def count_variables(db: Database, flt: VariableFilter | None) -> int:
    async with db.read() as conn:
        stmt = sa.select(sa.func.count()).select_from(t.variable).where(_where(conn, flt))
        return int((await conn.execute(stmt)).scalar_one())
