"""The single SQLite writer, with group commit.

Every write goes through one connection owned by one task, so SQLite never sees two
writers from this process and never answers "database is locked". The task takes
whatever jobs are waiting (up to `max_batch`), runs each in its own savepoint inside one
transaction, commits once, and only then hands each caller its own result: throughput
grows with concurrency instead of serialising on one fsync per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")
WriteJob = Callable[[AsyncConnection], Awaitable[T]]

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    job: WriteJob[Any]
    future: asyncio.Future[Any]
    outcome: tuple[bool, Any] = field(default=(False, None))


class SqliteWriter:
    def __init__(self, engine: AsyncEngine, max_batch: int = 64) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # committed transactions, for metrics and tests
        self.jobs = 0

    async def start(self) -> None:
        self._conn = await self._engine.connect()
        self._task = asyncio.create_task(self._run(), name="baton-sqlite-writer")

    async def stop(self) -> None:
        if self._task is not None:
            # Let queued jobs finish: everything acknowledged must be committed.
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._conn.close()

    async def submit(self, job: WriteJob[T]) -> T:
        if self._task is None or self._task.done():
            raise RuntimeError("the SQLite writer is not running")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(job, future))
        # shield: a caller that goes away must not cancel a job that may already be committed.
        return await asyncio.shield(future)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit_batch(batch)
            except _JobFailed:
                pass  # a lone job failed and was rolled back; its outcome is recorded
            except Exception as exc:  # the commit itself failed: nobody's write landed
                log.exception("SQLite write batch of %d failed", len(batch))
                for item in batch:
                    item.outcome = (False, exc)
                await self._recover()
            for item in batch:
                ok, value = item.outcome
                if not item.future.done():
                    if ok:
                        item.future.set_result(value)
                    else:
                        item.future.set_exception(value)
                self._queue.task_done()

    async def _commit_batch(self, batch: list[_Pending]) -> None:
        conn = self._conn
        async with conn.begin():
            if len(batch) == 1:  # no savepoint needed: the job's failure is the batch's
                item = batch[0]
                try:
                    item.outcome = (True, await item.job(conn))
                except Exception as exc:
                    item.outcome = (False, exc)
                    raise _JobFailed from exc
            else:
                for item in batch:
                    try:
                        async with conn.begin_nested():
                            item.outcome = (True, await item.job(conn))
                    except Exception as exc:
                        item.outcome = (False, exc)
        self.batches += 1
        self.jobs += len(batch)

    async def _recover(self) -> None:
        """After a failed batch, make sure the connection is usable again."""
        try:
            if self._conn.in_transaction():
                await self._conn.rollback()
        except Exception:
            log.exception("rollback after a failed write batch failed; reconnecting")
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = await self._engine.connect()


class _JobFailed(Exception):
    """Raised inside the transaction so a lone failing job rolls back; its outcome is kept."""
