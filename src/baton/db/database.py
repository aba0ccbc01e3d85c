"""The Database handle the app's lifespan owns: `read()` for queries, `write(job)` for changes.

On SQLite every write job goes to the single writer (group commit, see writer.py) and
reads use a small pool of query-only connections, which WAL lets run beside the writer.
On PostgreSQL both use one pooled engine; a write job runs in its own transaction.
Callers never see the difference.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from baton.db.engine import create_engine, create_sqlite_writer_engine
from baton.db.writer import SqliteWriter, WriteJob
from baton.settings import Settings

T = TypeVar("T")


class Database:
    def __init__(self, settings: Settings) -> None:
        self.url: URL = settings.db_url
        self.dialect = self.url.get_backend_name()
        # The fast paths of the database layer (BATON_FAST_PATHS; all on SQLite only).
        self.fast_statements = settings.fast("statements")
        self._writer: SqliteWriter | None = None
        if self.dialect == "sqlite":
            self._write_engine: AsyncEngine = create_engine(self.url, role="writer")
            self._read_engine: AsyncEngine = create_engine(
                self.url, role="reader", pool_size=8, inline=settings.fast("inline_reads")
            )
            self._sync_writer_engine = create_sqlite_writer_engine(
                self.url, fast_statements=self.fast_statements
            )
            self._writer = SqliteWriter(
                self._sync_writer_engine,
                settings.sqlite_write_batch,
                quick_writes=settings.fast("quick_writes"),
            )
        else:
            engine = create_engine(
                self.url, pool_size=settings.pg_pool_size, max_overflow=settings.pg_max_overflow
            )
            self._write_engine = self._read_engine = engine

    @property
    def migration_engine(self) -> AsyncEngine:
        """The engine migrations run on (on SQLite, the writer's, before the writer starts)."""
        return self._write_engine

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    async def start(self) -> None:
        if self._writer is not None:
            await self._writer.start()

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.stop()
        await self._write_engine.dispose()
        if self._read_engine is not self._write_engine:
            await self._read_engine.dispose()
        if self._writer is not None:
            self._sync_writer_engine.dispose()

    def pool_stats(self) -> dict[str, int]:
        """Connections in use and queued writes, for metrics."""
        pool: Any = self._read_engine.pool
        stats = {"connections_in_use": int(pool.checkedout()), "pool_size": int(pool.size())}
        if self._writer is not None:
            stats["writes_waiting"] = self._writer.waiting
        return stats

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for queries (on SQLite, a read-only one)."""
        async with self._read_engine.connect() as conn:
            yield conn

    async def write(self, job: WriteJob[T], *, quick: bool = False) -> T:
        """Run `job(conn)` in a transaction and return its result once it is committed.

        A job is a plain function of a synchronous connection: on SQLite it runs in the
        writer thread (on the event loop if `quick`, a job that touches a few rows, and the
        `quick_writes` fast path is on: see writer.py), on PostgreSQL through the async
        driver (SQLAlchemy's run_sync).
        """
        if self._writer is not None:
            return await self._writer.submit(job, quick)
        async with self._write_engine.begin() as conn:
            return await conn.run_sync(job)

    async def ping(self, timeout: float = 3.0) -> None:
        """One round trip to the database; raises if it does not answer within `timeout`."""

        async def _ping() -> None:
            async with self.read() as conn:
                await conn.execute(sa.text("SELECT 1"))

        await asyncio.wait_for(_ping(), timeout)
