"""Engines: SQLite with WAL and pragmas (one writer, pooled readers), PostgreSQL with a pool."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from baton.db.inline_sqlite import inline_connector

# Set in the `info` of a write connection on which the `statements` fast path is on.
FAST_STATEMENTS = "baton.fast_statements"

# Long enough that another process (a `baton db` command) holding the write lock
# delays Baton's writer rather than failing it.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_engine(
    url: URL, *, role: str = "any", pool_size: int = 5, inline: bool = False, **kw: Any
) -> AsyncEngine:
    """An async engine for `url`.

    SQLite `role` is "writer" (one connection, BEGIN IMMEDIATE), "reader"
    (query_only connections, deferred BEGIN; with `inline`, run on the event loop's thread:
    the `inline_reads` fast path, see inline_sqlite.py) or "any" (migrations and CLI
    commands).
    """
    common: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if url.get_backend_name() == "sqlite":
        if role == "writer":
            common.update(pool_size=1, max_overflow=0)
        elif role == "reader":
            common.update(pool_size=pool_size, max_overflow=0)
            if inline:
                common.update(async_creator=inline_connector(url))
        engine = create_async_engine(url, **common, **kw)
        _install_sqlite_hooks(engine.sync_engine, role)
        return engine
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=kw.pop("max_overflow", 10),
        pool_pre_ping=True,
        pool_recycle=1800,
        # asyncpg's connect timeout, so a vanished server fails fast instead of hanging.
        connect_args={"timeout": kw.pop("connect_timeout", 5), "command_timeout": 60},
        **common,
        **kw,
    )
    _install_postgres_hooks(engine.sync_engine)
    return engine


def _install_postgres_hooks(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # asyncpg prepares every statement, and after five runs PostgreSQL may switch to a
        # generic plan made without the bound values: "state = $1" then looks like any state
        # (not the 3% that are SCHEDULED) and a 0.4 ms count became a 130 ms scan. Plan each
        # execution with its values. SET, not a startup parameter, so PgBouncer accepts it;
        # on asyncpg's own connection, outside the transaction the adapter would roll back.
        dbapi_conn.run_async(lambda conn: conn.execute("SET plan_cache_mode = force_custom_plan"))


def create_sqlite_writer_engine(url: URL, *, fast_statements: bool = False) -> sa.Engine:
    """A synchronous engine for the SQLite writer thread (the stdlib driver, one connection);
    with `fast_statements`, db.statements drives its connection directly (that fast path)."""
    engine = sa.create_engine(
        url.set(drivername="sqlite+pysqlite"),
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        pool_size=1,
        max_overflow=0,
    )
    _install_sqlite_hooks(engine, "writer")
    if fast_statements:

        @sa.event.listens_for(engine, "connect")
        def _fast(_dbapi_conn: Any, record: Any) -> None:
            record.info[FAST_STATEMENTS] = True

    return engine


def _install_sqlite_hooks(engine: sa.Engine, role: str) -> None:
    reader = role == "reader"
    begin = "BEGIN" if reader else "BEGIN IMMEDIATE"

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours (and savepoints work).
        if dbapi_conn.isolation_level is not None:
            dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if not reader:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA temp_store = MEMORY")
        cur.execute("PRAGMA cache_size = -16000")
        if reader:
            cur.execute("PRAGMA query_only = ON")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Said to the driver: through exec_driver_sql it cost more than the query it
        # precedes in a one-row read. The writer may have begun already (writer.py).
        dbapi_conn = conn.connection.dbapi_connection
        assert dbapi_conn is not None
        if isinstance(dbapi_conn, sqlite3.Connection) and dbapi_conn.in_transaction:
            return
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(begin)
        finally:
            cursor.close()
