"""SQLite reads run on the event loop's thread, and move to a thread once they run long."""

from __future__ import annotations

import asyncio
import faulthandler
import threading
import time

import pytest
import sqlalchemy as sa

from baton.db import inline_sqlite
from baton.db.database import Database
from baton.db.inline_sqlite import InlineConnection
from tests.support.flows_sql import insert_flow

# Counting to ten million takes SQLite well over the inline budget (a second or more).
LONG_COUNT = sa.text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000) "
    "SELECT count(*) FROM n"
)
# Half a million rows: the first comes at once, reading them all is what takes long.
MANY_ROWS = sa.text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500000) "
    "SELECT i FROM n"
)


@pytest.fixture(autouse=True)
def _forget_heavy_statements() -> None:
    inline_sqlite._HEAVY.clear()


class Ticker:
    """Counts how often the event loop got to run it while something else was going on."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.ticks += 1
            await asyncio.sleep(0)

    def __enter__(self) -> Ticker:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def test_a_short_read_runs_on_the_loop_thread(sqlite_db: Database) -> None:
    await sqlite_db.write(insert_flow("a"))
    threads = threading.active_count()
    moved = InlineConnection.offloaded_statements
    async with sqlite_db.read() as conn:
        with Ticker() as ticker:
            names = (await conn.execute(sa.text("SELECT name FROM flow"))).scalars().all()
            ticks = ticker.ticks
    assert names == ["a"]
    assert ticks == 0  # never gave the loop away: no thread round trip
    assert InlineConnection.offloaded_statements == moved
    assert threading.active_count() == threads  # aiosqlite would start a thread per connection


async def test_a_long_statement_moves_to_a_thread_and_the_loop_keeps_running(
    sqlite_db: Database,
) -> None:
    moved = InlineConnection.offloaded_statements
    async with sqlite_db.read() as conn:
        with Ticker() as ticker:
            count = (await conn.execute(LONG_COUNT)).scalar_one()
            ticks = ticker.ticks
        assert InlineConnection.offloaded_statements == moved + 1
        # The rest of this checkout stays in the thread (it has shown it is heavy) ...
        with Ticker() as ticker:
            assert (await conn.execute(sa.text("SELECT 1"))).scalar_one() == 1
            assert ticker.ticks > 0
    assert count == 10_000_000
    assert ticks > 0  # the loop ran other work while SQLite counted
    # ... and the next checkout is back on the loop.
    async with sqlite_db.read() as conn:
        with Ticker() as ticker:
            assert (await conn.execute(sa.text("SELECT 2"))).scalar_one() == 2
            assert ticker.ticks == 0
    assert InlineConnection.offloaded_statements == moved + 1


async def test_a_statement_that_overran_a_few_times_goes_to_the_thread_at_once(
    sqlite_db: Database,
) -> None:
    for _ in range(inline_sqlite.HEAVY_AFTER):
        moved = InlineConnection.offloaded_statements
        async with sqlite_db.read() as conn:
            await conn.execute(LONG_COUNT)
        assert InlineConnection.offloaded_statements == moved + 1  # interrupted, then moved
    moved = InlineConnection.offloaded_statements
    async with sqlite_db.read() as conn:
        with Ticker() as ticker:
            assert (await conn.execute(LONG_COUNT)).scalar_one() == 10_000_000
            assert ticker.ticks > 0  # in the thread ...
    assert InlineConnection.offloaded_statements == moved  # ... without being interrupted first


async def test_rows_cut_short_by_the_budget_are_read_again_in_full(sqlite_db: Database) -> None:
    moved = InlineConnection.offloaded_statements
    async with sqlite_db.read() as conn:
        rows = (await conn.execute(MANY_ROWS)).scalars().all()
    assert InlineConnection.offloaded_statements == moved + 1
    assert len(rows) == 500_000
    assert rows == list(range(1, 500_001))


async def test_a_statement_run_again_sees_its_transactions_snapshot(sqlite_db: Database) -> None:
    await sqlite_db.write(insert_flow("before"))
    async with sqlite_db.read() as conn:
        await conn.execute(sa.text("SELECT count(*) FROM flow"))  # the read transaction starts
        await sqlite_db.write(insert_flow("after"))  # committed by the writer meanwhile
        # A long statement that also counts the flows: interrupted, then run in a thread.
        both = sa.text(f"SELECT (SELECT count(*) FROM flow), ({LONG_COUNT.text})")
        moved = InlineConnection.offloaded_statements
        flows, _ = (await conn.execute(both)).one()
        assert InlineConnection.offloaded_statements == moved + 1
        assert flows == 1  # still the transaction's snapshot: the interruption did not end it
    async with sqlite_db.read() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM flow"))).scalar_one() == 2


async def test_a_caller_that_gives_up_stops_its_statement(sqlite_db: Database) -> None:
    """A caller cancelled while its statement runs in the thread (a timeout, a shutdown)
    interrupts the statement, and the connection is free again: without that the pool's
    rollback would wait on the loop's thread for a statement that never ends."""
    forever = sa.text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    )

    async def count_forever() -> None:
        async with sqlite_db.read() as conn:
            await conn.execute(forever)

    faulthandler.dump_traceback_later(120, exit=True)  # a hang fails the test, not CI
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(count_forever(), 0.5)
        async with sqlite_db.read() as conn:
            assert (await conn.execute(sa.text("SELECT 1"))).scalar_one() == 1
    finally:
        faulthandler.cancel_dump_traceback_later()


async def test_readers_stay_query_only_and_errors_pass_through(sqlite_db: Database) -> None:
    async with sqlite_db.read() as conn:
        with pytest.raises(sa.exc.OperationalError, match="no such table"):
            await conn.execute(sa.text("SELECT * FROM nowhere"))
    with pytest.raises(sa.exc.OperationalError, match="readonly"):
        async with sqlite_db.read() as conn:
            await conn.execute(sa.text("DELETE FROM flow"))
    async with sqlite_db.read() as conn:  # the pool's connections are fine afterwards
        assert (await conn.execute(sa.text("SELECT 3"))).scalar_one() == 3


async def test_the_budget_counts_cpu_time_not_waiting(sqlite_db: Database) -> None:
    """A statement that waits rather than works (here a function that sleeps 50 ms, ten
    times the budget; in a server, a core another thread or process had) stays on the
    loop: waiting does not make a statement heavy."""
    async with sqlite_db.read() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert isinstance(driver, InlineConnection)
        await driver.create_function("nap", 1, lambda i: time.sleep(0.05) or i)
        waits = sa.text(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
            "SELECT max(CASE WHEN i = 1 THEN nap(i) ELSE i END) FROM n"
        )
        moved = InlineConnection.offloaded_statements
        started = time.monotonic()
        assert (await conn.execute(waits)).scalar_one() == 3000
        assert time.monotonic() - started >= 0.05
    assert InlineConnection.offloaded_statements == moved
    assert not inline_sqlite._HEAVY


@pytest.mark.parametrize("sqlite_db", ["-inline_reads"], indirect=True)
async def test_with_the_fast_path_off_reads_take_aiosqlites_thread(sqlite_db: Database) -> None:
    db = sqlite_db
    await db.write(insert_flow("a"))
    async with db.read() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert not isinstance(driver, InlineConnection)
        with Ticker() as ticker:
            names = (await conn.execute(sa.text("SELECT name FROM flow"))).scalars().all()
            assert ticker.ticks > 0  # the loop ran while aiosqlite's thread read
    assert names == ["a"]
