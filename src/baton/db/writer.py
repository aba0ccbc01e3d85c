"""The single SQLite writer, with group commit.

Every write goes through one connection owned by one thread, so SQLite never sees two
writers from this process and never answers "database is locked". A write job is a plain
function of a (synchronous) connection: the thread runs whatever jobs are waiting (up to
`max_batch`) in one transaction, each in its own savepoint, commits once, and only then
hands each caller its own result. Throughput grows with concurrency instead of
serialising on one commit per request, and a job's statements run back to back in the
thread, not one event-loop round trip each.

A batch of quick jobs only (a few rows each, such as a state change or a log batch) runs
on the event loop instead, when the write lock is free (the `quick_writes` fast path,
BATON_FAST_PATHS): handing it to the thread and back
cost more than the job itself, a quarter of a state change's time under load. The lock is
taken without waiting, so another process holding it (a `baton db` command) sends the
batch to the thread to wait there, and the loop keeps serving. What a quick batch can
still block the loop for is its commit, and the WAL checkpoint SQLite runs in a commit
every thousand pages (a few milliseconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa

from baton.db.engine import SQLITE_BUSY_TIMEOUT_MS

T = TypeVar("T")
WriteJob = Callable[[sa.Connection], T]

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    job: WriteJob[Any]
    future: asyncio.Future[Any]
    quick: bool
    outcome: tuple[bool, Any] = field(default=(False, None))


class SqliteWriter:
    def __init__(
        self, engine: sa.Engine, max_batch: int = 64, *, quick_writes: bool = True
    ) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._quick_writes = quick_writes  # the fast path: quick jobs may run on the loop
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="baton-writer")
        self._conn: sa.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # committed transactions, for metrics and tests
        self.jobs = 0
        self.inline_batches = 0  # of `batches`, those run on the event loop

    @property
    def waiting(self) -> int:
        """Write jobs queued and not yet taken into a transaction (for metrics)."""
        return self._queue.qsize()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._conn = await loop.run_in_executor(self._thread, self._engine.connect)
        self._task = asyncio.create_task(self._run(), name="baton-sqlite-writer")

    async def stop(self) -> None:
        if self._task is not None:
            # Let queued jobs finish: everything acknowledged must be committed.
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        loop = asyncio.get_running_loop()
        if self._conn is not None:
            await loop.run_in_executor(self._thread, self._conn.close)
            self._conn = None
        self._thread.shutdown(wait=True)

    async def submit(self, job: WriteJob[T], quick: bool = False) -> T:
        """Run `job` in the next transaction; `quick` says it touches a few rows only, so
        it may run on the event loop."""
        if self._task is None or self._task.done():
            raise RuntimeError("the SQLite writer is not running")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(job, future, quick and self._quick_writes))
        # shield: a caller that goes away must not cancel a job that may already be committed.
        return await asyncio.shield(future)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            if all(item.quick for item in batch) and self._lock_now():
                self._commit_batch(batch)  # on the loop, in the transaction just begun
                self.inline_batches += 1
            else:
                await loop.run_in_executor(self._thread, self._commit_batch, batch)
            for item in batch:
                ok, value = item.outcome
                if not item.future.done():
                    if ok:
                        item.future.set_result(value)
                    else:
                        item.future.set_exception(value)
                self._queue.task_done()

    def _lock_now(self) -> bool:
        """Begin the write transaction if the lock is free now, without SQLite's wait for
        it; `_commit_batch` then runs inside it (the engine's BEGIN sees it begun)."""
        assert self._conn is not None
        try:
            driver = self._conn.connection.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            driver.execute("PRAGMA busy_timeout = 0")
            try:
                driver.execute("BEGIN IMMEDIATE")
            finally:
                driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        except Exception:
            # Locked by another process, or the connection is in trouble: the thread waits
            # for the lock, or fails the batch and recovers the connection, as it always has.
            return False
        return True

    def _commit_batch(self, batch: list[_Pending]) -> None:
        """Run the batch in one transaction, record each outcome (in the writer thread,
        or on the event loop for a batch of quick jobs)."""
        conn = self._conn
        assert conn is not None
        try:
            with conn.begin():
                if len(batch) == 1:  # no savepoint needed: the job's failure is the batch's
                    item = batch[0]
                    try:
                        item.outcome = (True, item.job(conn))
                    except Exception as exc:
                        item.outcome = (False, exc)
                        raise _JobFailed from exc
                else:
                    # Each job in its own savepoint, so one that fails takes only its own
                    # changes back. Said to the driver directly: SQLAlchemy's nested
                    # transactions cost thirty times as much, per job.
                    driver = conn.connection.driver_connection
                    assert driver is not None
                    for item in batch:
                        driver.execute("SAVEPOINT baton_job")
                        try:
                            item.outcome = (True, item.job(conn))
                        except Exception as exc:
                            item.outcome = (False, exc)
                            driver.execute("ROLLBACK TO baton_job")
                        driver.execute("RELEASE baton_job")
        except _JobFailed:
            return  # a lone job failed and was rolled back; its outcome is recorded
        except Exception as exc:  # the commit itself failed: nobody's write landed
            log.exception("SQLite write batch of %d failed", len(batch))
            for item in batch:
                item.outcome = (False, exc)
            self._recover()
            return
        self.batches += 1
        self.jobs += len(batch)

    def _recover(self) -> None:
        """After a failed batch, make sure the connection is usable again."""
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
            driver = self._conn.connection.driver_connection
            if isinstance(driver, sqlite3.Connection) and driver.in_transaction:
                driver.rollback()  # begun by `_lock_now`, never taken over by the engine
        except Exception:
            log.exception("rollback after a failed write batch failed; reconnecting")
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = self._engine.connect()


class _JobFailed(Exception):
    """Raised inside the transaction so a lone failing job rolls back; its outcome is kept."""
