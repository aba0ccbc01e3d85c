"""A Query reads on SQLite's driver exactly the rows SQLAlchemy's execute would return."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from baton.db import tables as t
from baton.db.database import Database
from baton.db.query import Query
from tests.support.flows_sql import insert_flow

RAW = [sa.type_coerce(c, sa.types.NullType()).label(c.name) for c in t.flow.columns]


async def test_rows_match_execute_for_a_uuid_and_a_text_parameter(sqlite_db: Database) -> None:
    for name in ("first", "second"):
        await sqlite_db.write(insert_flow(name))
    async with sqlite_db.read() as conn:
        stored = (await conn.execute(sa.select(t.flow.c.id, t.flow.c.name))).all()
    by_id = sa.select(*RAW).where(t.flow.c.id == sa.bindparam("id", type_=t.flow.c.id.type))
    by_name = sa.select(*RAW).where(t.flow.c.name == sa.bindparam("name"))
    for stmt, params in (
        (by_id, {"id": stored[1].id}),  # a UUID object, stored as 32 hex digits
        (by_name, {"name": "first"}),
    ):
        async with sqlite_db.read() as conn:
            expected = (await conn.execute(stmt, params)).all()
        rows = await Query(stmt).all(sqlite_db, params)
        assert len(rows) == 1
        assert [tuple(r) for r in rows] == [tuple(r) for r in expected]
    assert await Query(by_id).all(sqlite_db, {"id": uuid.uuid4()}) == []


async def test_a_driver_error_is_raised_as_sqlalchemys(sqlite_db: Database) -> None:
    stmt = sa.select(sa.literal_column("x")).select_from(sa.table("no_such_table"))
    with pytest.raises(sa.exc.OperationalError, match="no_such_table"):
        await Query(stmt).all(sqlite_db, {})


async def test_an_in_list_is_refused(sqlite_db: Database) -> None:
    stmt = sa.select(*RAW).where(t.flow.c.name.in_(sa.bindparam("names", expanding=True)))
    with pytest.raises(ValueError, match="IN lists"):
        await Query(stmt).all(sqlite_db, {"names": ["a"]})
