"""db.statements' fast path stores and reads exactly what SQLAlchemy's own execute stores
and reads, value for value; with the fast path off, it is SQLAlchemy's execute."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from baton.clock import uuid7s
from baton.db import tables as t
from baton.db.database import Database
from baton.db.statements import Statement, insert_rows
from tests.support.flows_sql import insert_flow

COLUMNS = ("id", "created", "updated", "name", "level", "message", "timestamp", "flow_run_id")


# An aware time outside UTC with zero microseconds, and one with them: stored as UTC.
EAST = dt.timezone(dt.timedelta(hours=5, minutes=30))
TIMES = [dt.datetime(2026, 3, 1, 9, 30, 0, tzinfo=EAST), dt.datetime.now(dt.UTC)]
RUN = uuid.uuid4()


def _rows(names: list[str]) -> list[tuple[object, ...]]:
    times, run = TIMES, RUN
    return [
        (
            log_id,
            times[i % 2],
            times[i % 2],
            name,
            10 * (i + 1),
            f"it's line {i} ☃",
            times[i % 2],
            run if i else None,
        )
        for i, (log_id, name) in enumerate(zip(uuid7s(len(names)), names, strict=True))
    ]


async def test_insert_rows_stores_what_execute_stores(app: FastAPI) -> None:
    db = app.state.db
    fast, slow = _rows(["fast-a", "fast-b"]), _rows(["slow-a", "slow-b"])

    def job(conn: sa.Connection) -> None:
        insert_rows(conn, t.log, COLUMNS, fast)
        conn.execute(t.log.insert(), [dict(zip(COLUMNS, row, strict=True)) for row in slow])

    await db.write(job)
    raw = sa.select(*(sa.type_coerce(t.log.c[c], sa.types.NullType()) for c in COLUMNS))
    async with db.read() as conn:
        stored = {row[3]: row for row in (await conn.execute(raw)).all()}
        typed = {row.name: row for row in (await conn.execute(sa.select(t.log))).all()}
    for suffix in ("a", "b"):
        f, s = stored[f"fast-{suffix}"], stored[f"slow-{suffix}"]
        # Same stored text/values in every column but the id and the name.
        assert f[1:3] + f[4:] == s[1:3] + s[4:]
    for row in fast:
        got = typed[row[3]]
        assert (got.id, got.timestamp, got.level, got.message, got.flow_run_id) == (
            row[0],
            row[6],
            row[4],
            row[5],
            row[7],
        )


async def test_insert_rows_of_nothing_is_nothing(app: FastAPI) -> None:
    await app.state.db.write(lambda conn: insert_rows(conn, t.log, COLUMNS, []))
    async with app.state.db.read() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(t.log)) == 0


async def test_insert_rows_of_json_documents(app: FastAPI) -> None:
    """Unhashable values (JSON lists and objects) go through their column's processor too."""
    now = dt.datetime.now(dt.UTC)
    cols = ("id", "created", "updated", "name", "value", "tags")
    rows = [
        (uuid.uuid4(), now, now, "a", {"k": [1, 2.0]}, ["x"]),
        (uuid.uuid4(), now, now, "b", [None, "s"], []),
        (uuid.uuid4(), now, now, "c", 42, ["x"]),
    ]
    await app.state.db.write(lambda conn: insert_rows(conn, t.variable, cols, rows))
    async with app.state.db.read() as conn:
        got = {r.name: r for r in (await conn.execute(sa.select(t.variable))).all()}
    assert [got[n].value for n in "abc"] == [{"k": [1, 2.0]}, [None, "s"], 42]
    assert [got[n].tags for n in "abc"] == [["x"], [], ["x"]]
    assert {got[n].created for n in "abc"} == {now}


async def test_statement_stores_what_execute_stores(app: FastAPI) -> None:
    """A Statement writes the same stored values as conn.execute of the same statement,
    one row or many, and an UPDATE by id sets exactly the given columns."""
    now = dt.datetime.now(EAST)
    fast, slow = uuid.uuid4(), uuid.uuid4()
    insert = t.variable.insert()
    update = t.variable.update().where(t.variable.c.id == sa.bindparam("_id"))

    def row(var_id: uuid.UUID, name: str) -> dict[str, object]:
        value = {"k": [1, 2.5, None, "☃"]}
        return {"id": var_id, "created": now, "updated": now, "name": name, "value": value}

    def job(conn: sa.Connection) -> None:
        Statement(insert).run(conn, {**row(fast, "fast"), "tags": ["a"]})
        conn.execute(insert, {**row(slow, "slow"), "tags": ["a"]})
        Statement(insert).run(
            conn, [{**row(uuid.uuid4(), f"many-{i}"), "tags": []} for i in range(3)]
        )
        changes = {"tags": ["b"], "updated": TIMES[0]}
        Statement(update).run(conn, {"_id": fast, **changes})
        conn.execute(update, {"_id": slow, **changes})

    await app.state.db.write(job)
    raw = sa.select(*(sa.type_coerce(c, sa.types.NullType()) for c in t.variable.c))
    async with app.state.db.read() as conn:
        stored = {r[3]: r for r in (await conn.execute(raw.order_by(t.variable.c.name))).all()}
    assert stored["fast"][1:3] + stored["fast"][4:] == stored["slow"][1:3] + stored["slow"][4:]
    assert [name for name in stored if name.startswith("many-")] == ["many-0", "many-1", "many-2"]


async def test_statement_raises_sqlalchemys_errors(app: FastAPI) -> None:
    now = dt.datetime.now(dt.UTC)
    taken = {"id": uuid.uuid4(), "created": now, "updated": now, "name": "x", "tags": []}
    await app.state.db.write(lambda conn: Statement(t.variable.insert()).run(conn, taken))
    again = {**taken, "id": uuid.uuid4()}
    with pytest.raises(sa.exc.IntegrityError):  # UNIQUE(name), as conn.execute would say it
        await app.state.db.write(lambda conn: Statement(t.variable.insert()).run(conn, again))


async def test_insert_rows_raises_sqlalchemys_errors_and_stores_nothing(app: FastAPI) -> None:
    rows = _rows(["a", "b"])
    rows[1] = (rows[0][0], *rows[1][1:])  # the same id twice
    with pytest.raises(sa.exc.IntegrityError):
        await app.state.db.write(lambda conn: insert_rows(conn, t.log, COLUMNS, rows))
    async with app.state.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.log))).scalar() == 0


async def test_statement_with_values_written_into_it_takes_the_usual_path(app: FastAPI) -> None:
    now = dt.datetime.now(dt.UTC)
    stmt = t.variable.insert().values(tags=["fixed"])  # a value the parameters do not carry
    row = {"id": uuid.uuid4(), "created": now, "updated": now, "name": "v"}
    await app.state.db.write(lambda conn: Statement(stmt).run(conn, row))
    async with app.state.db.read() as conn:
        assert (await conn.execute(sa.select(t.variable.c.tags))).scalar_one() == ["fixed"]


RAW = [sa.type_coerce(c, sa.types.NullType()).label(c.name) for c in t.flow.columns]


async def test_read_rows_match_execute_for_a_uuid_and_a_text_parameter(sqlite_db: Database) -> None:
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
        rows = await Statement(stmt).rows(sqlite_db, params)
        assert len(rows) == 1
        assert [tuple(r) for r in rows] == [tuple(r) for r in expected]
    assert await Statement(by_id).rows(sqlite_db, {"id": uuid.uuid4()}) == []


async def test_a_read_raises_sqlalchemys_errors(sqlite_db: Database) -> None:
    stmt = sa.select(sa.literal_column("x")).select_from(sa.table("no_such_table"))
    with pytest.raises(sa.exc.OperationalError, match="no_such_table"):
        await Statement(stmt).rows(sqlite_db, {})


async def test_a_read_with_an_in_list_is_refused(sqlite_db: Database) -> None:
    stmt = sa.select(*RAW).where(t.flow.c.name.in_(sa.bindparam("names", expanding=True)))
    with pytest.raises(ValueError, match="IN lists"):
        await Statement(stmt).rows(sqlite_db, {"names": ["a"]})


async def test_on_sqlite_the_fast_path_skips_sqlalchemys_execute(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    executed: list[object] = []
    original = sa.Connection.execute

    def counted(self: sa.Connection, statement: object, *args: object, **kw: object) -> object:
        executed.append(statement)
        return original(self, statement, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(sa.Connection, "execute", counted)
    now = dt.datetime.now(dt.UTC)
    insert = Statement(t.variable.insert())
    row = {"id": uuid.uuid4(), "created": now, "updated": now, "name": "v", "tags": []}
    await sqlite_db.write(lambda conn: insert.run(conn, row))
    await sqlite_db.write(lambda conn: insert_rows(conn, t.log, COLUMNS, _rows(["a"])))
    assert executed == []


@pytest.mark.parametrize("sqlite_db", ["-statements"], indirect=True)
async def test_with_the_fast_path_off_every_call_is_sqlalchemys(sqlite_db: Database) -> None:
    db = sqlite_db
    await db.write(insert_flow("plain"))
    by_name = sa.select(*RAW).where(t.flow.c.name == sa.bindparam("name"))
    read = Statement(by_name)
    assert [r[3] for r in await read.rows(db, {"name": "plain"})] == ["plain"]
    assert read._plans == {}  # never compiled for the driver
    insert = Statement(t.variable.insert())
    now = dt.datetime.now(dt.UTC)
    row = {"id": uuid.uuid4(), "created": now, "updated": now, "name": "v", "tags": []}
    await db.write(lambda conn: insert.run(conn, row))
    assert insert._plans == {}
