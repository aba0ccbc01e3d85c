"""SQLite reads on the event loop's own thread, moved to a thread only when they run long.

aiosqlite hands every call (cursor, execute, fetch, rollback) to a thread of its own and
wakes the loop for each answer: five thread round trips for a one-row read, each dearer
than the read itself (SQLite answers an indexed lookup in tens of microseconds, and on
WAL a reader never waits for the writer). `InlineConnection` keeps aiosqlite's API, which
SQLAlchemy drives, but runs each call where it is awaited.

A statement may not hold the loop for long, though: a UI page over a million rows or a
text search would stall every other request. So each statement runs inline under a
budget (`BUDGET_S`) of the loop thread's CPU time, kept by SQLite's progress handler. One
that overruns is interrupted and run again in a reader thread, and so is the rest of that
checkout's work, until the connection goes back to the pool; a statement that overran
a few times (`HEAVY_AFTER`) goes to the thread at once from then on. Re-running is safe: reader
connections are query-only, and inside their transaction a statement sees the same
snapshot the second time. The budget counts CPU time, not wall time: the driver lets go
of the GIL while SQLite works, and a statement that merely waited for a core (the writer's
thread, or another process, had it) is not heavy; counted in wall time, one such wait sent
a filter of 200 runs to the thread for good, at twice its CPU per request.

The `inline_reads` fast path (BATON_FAST_PATHS): it overrides aiosqlite's private
`_execute`, `_connector` and `_running`, so aiosqlite is pinned to the minor version
tested (pyproject.toml). With it off, reads take aiosqlite's own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL

BUDGET_S = 0.005
# SQLite calls the progress handler every this many virtual-machine steps (tens of µs).
PROGRESS_STEPS = 2000
_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="baton-read")
# The calls that run a statement (or read what is left of it) and so get a budget.
_BUDGETED = frozenset({"execute", "fetchall"})
# The connection calls that end a checkout (SQLAlchemy rolls back on return to the pool).
_CHECKOUT_ENDS = frozenset({"rollback", "commit", "close"})


# How often each statement's SQL overran the budget, most recent last. One that overran
# `HEAVY_AFTER` times goes to a thread at once from then on (a UI page's heavy queries would
# otherwise pay the budget each time); one overrun alone does not mark it, since a garbage
# collection that happens to run during a statement counts against its budget too.
_HEAVY: OrderedDict[str, int] = OrderedDict()
_HEAVY_KEPT = 512
HEAVY_AFTER = 3


def _is_heavy(sql: str) -> bool:
    return _HEAVY.get(sql, 0) >= HEAVY_AFTER


def _overran(sql: str) -> None:
    _HEAVY[sql] = _HEAVY.get(sql, 0) + 1
    _HEAVY.move_to_end(sql)
    while len(_HEAVY) > _HEAVY_KEPT:
        _HEAVY.popitem(last=False)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run where they are awaited, within a budget."""

    offloaded_statements = 0  # statements moved to a thread, process-wide (for tests)

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._open().__await__()

    async def _open(self) -> InlineConnection:
        self._deadline = math.inf
        self._offloaded = False
        self._statement: tuple[Any, tuple[Any, ...]] | None = None
        self._connection = self._connector()
        self._watch(True)
        return self

    def _watch(self, on: bool) -> None:
        # Off while in a thread: each call back would take the GIL from the loop.
        assert self._connection is not None
        if on:
            self._connection.set_progress_handler(self._over_budget, PROGRESS_STEPS)
        else:
            self._connection.set_progress_handler(None, 0)

    def _over_budget(self) -> int:
        return 1 if time.thread_time() > self._deadline else 0

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        name = getattr(fn, "__name__", "")
        owner = getattr(fn, "__self__", None)
        if owner is self._connection and name in _CHECKOUT_ENDS:
            self._statement = None
            if self._offloaded and name != "close":
                self._offloaded = False
                self._watch(True)
            return fn(*args, **kwargs)
        if name == "execute" and isinstance(owner, sqlite3.Cursor):
            self._statement = (owner, args)
            if not self._offloaded and args and _is_heavy(args[0]):
                self._offload()  # it overran before: no need to find out again
        if self._offloaded:
            return await self._in_thread(partial(fn, *args, **kwargs))
        if name not in _BUDGETED:
            return fn(*args, **kwargs)
        self._deadline = time.thread_time() + BUDGET_S
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_INTERRUPT:
                raise
        finally:
            self._deadline = math.inf
        # Too long for the loop: this statement, and the rest of the checkout, in a thread.
        self._offload()
        InlineConnection.offloaded_statements += 1
        if self._statement is not None:
            _overran(self._statement[1][0])
        if name == "fetchall":  # the rows read before the interruption are gone: start over
            return await self._in_thread(partial(self._rerun, owner))
        return await self._in_thread(partial(fn, *args, **kwargs))

    def _offload(self) -> None:
        self._offloaded = True
        self._watch(False)

    def _rerun(self, cursor: Any) -> list[Any]:
        if self._statement is None or self._statement[0] is not cursor:
            raise sqlite3.OperationalError("interrupted, and the statement is not known")
        cursor.execute(*self._statement[1])
        rows: list[Any] = cursor.fetchall()
        return rows

    async def _in_thread(self, call: Callable[[], Any]) -> Any:
        work = asyncio.get_running_loop().run_in_executor(_THREADS, call)
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            # The caller gave up (a timeout, a shutdown), but the thread still holds the
            # connection: stop the statement and let the thread let go before the pool's
            # rollback, which would otherwise wait for it on the loop's thread.
            if self._connection is not None:
                self._connection.interrupt()
            with contextlib.suppress(Exception):
                await work
            raise

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def inline_connector(url: URL) -> Callable[[], InlineConnection]:
    """An `async_creator` for SQLAlchemy: connections to the SQLite `url` that run inline.

    The driver's own transaction handling is off from the start (isolation_level None),
    as the engine hooks want; aiosqlite's setter for it would wait on the missing thread.
    """
    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(url)
    kwargs.update(isolation_level=None, check_same_thread=False)

    def create() -> InlineConnection:
        return InlineConnection(lambda: sqlite3.connect(*args, **kwargs), iter_chunk_size=64)  # type: ignore[call-overload]

    return create
