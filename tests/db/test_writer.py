"""The SQLite writer: one connection, group commit, one failing job never sinks the others."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from baton.db.database import Database
from baton.db.migrate import ensure_schema
from baton.settings import DATABASE_URL_VAR, Settings
from tests.support.flows_sql import insert_flow

NAMES = sa.table("flow", sa.column("name"))


async def _names(db: Database) -> set[str]:
    async with db.read() as conn:
        return set((await conn.execute(sa.text("SELECT name FROM flow"))).scalars())


async def test_concurrent_jobs_are_committed_in_batches(sqlite_db: Database) -> None:
    names = [f"f{i:04d}" for i in range(300)]
    results = await asyncio.gather(*(sqlite_db.write(insert_flow(n)) for n in names))
    assert results == names
    assert await _names(sqlite_db) == set(names)
    writer = sqlite_db._writer
    assert writer is not None
    assert writer.jobs == 300
    assert writer.batches < 300  # several jobs shared a commit


@pytest.mark.parametrize("quick", [False, True], ids=["thread", "event-loop"])
async def test_a_failing_job_fails_alone(sqlite_db: Database, tmp_path: Path, quick: bool) -> None:
    await sqlite_db.write(insert_flow("taken"), quick=quick)
    jobs = [
        insert_flow("a"),
        insert_flow("taken"),
        insert_flow("b"),
    ]  # the duplicate breaks UNIQUE(name)
    outcomes = await asyncio.gather(
        *(sqlite_db.write(j, quick=quick) for j in jobs), return_exceptions=True
    )
    assert outcomes[0] == "a"
    assert isinstance(outcomes[1], sa.exc.IntegrityError)
    assert outcomes[2] == "b"
    assert await _names(sqlite_db) == {"taken", "a", "b"}
    # A lone failing job is rolled back too, and the writer keeps going.
    with pytest.raises(sa.exc.IntegrityError):
        await sqlite_db.write(insert_flow("a"), quick=quick)
    assert await sqlite_db.write(insert_flow("c"), quick=quick) == "c"
    # Nothing is left holding the write lock: another process can take it at once.
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()


def _ran_on(thread_ids: list[int], job: Callable[[sa.Connection], str]) -> Callable[..., str]:
    def recorded(conn: sa.Connection) -> str:
        thread_ids.append(threading.get_ident())
        return job(conn)

    return recorded


async def test_quick_jobs_run_on_the_event_loop_and_others_in_the_thread(
    sqlite_db: Database,
) -> None:
    loop_thread = threading.get_ident()
    quick: list[int] = []
    slow: list[int] = []
    await sqlite_db.write(_ran_on(quick, insert_flow("q1")), quick=True)
    await sqlite_db.write(_ran_on(slow, insert_flow("s1")))
    # A batch that holds one job not said to be quick runs in the thread, all of it.
    mixed: list[int] = []
    await asyncio.gather(
        sqlite_db.write(_ran_on(mixed, insert_flow("q2")), quick=True),
        sqlite_db.write(_ran_on(mixed, insert_flow("s2"))),
    )
    assert quick == [loop_thread]
    assert slow[0] != loop_thread
    assert mixed == [slow[0], slow[0]]
    assert await _names(sqlite_db) == {"q1", "s1", "q2", "s2"}
    writer = sqlite_db._writer
    assert writer is not None
    assert writer.inline_batches == 1


async def test_quick_jobs_wait_for_another_process_in_the_thread(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """Waiting for the lock on the event loop would freeze the server (and this test,
    whose loop could not go on to release the lock until SQLite gave up)."""
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ran_on: list[int] = []
    pending = asyncio.ensure_future(
        sqlite_db.write(_ran_on(ran_on, insert_flow("after-lock")), quick=True)
    )
    started = time.monotonic()
    await asyncio.sleep(0.5)
    # The loop was free: the sleep ended on time, not once SQLite's wait gave up.
    assert time.monotonic() - started < 2
    assert not pending.done()
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(pending, 10) == "after-lock"
    assert ran_on != [threading.get_ident()]
    # With the lock free again, quick jobs are back on the event loop.
    ran_on.clear()
    await sqlite_db.write(_ran_on(ran_on, insert_flow("free")), quick=True)
    assert ran_on == [threading.get_ident()]


async def test_readers_cannot_write(sqlite_db: Database) -> None:
    with pytest.raises(sa.exc.OperationalError, match="readonly"):
        async with sqlite_db.read() as conn:
            await conn.execute(sa.text("DELETE FROM flow"))


async def test_pragmas(sqlite_db: Database, tmp_path: Path) -> None:
    async with sqlite_db.read() as conn:
        fk = (await conn.execute(sa.text("PRAGMA foreign_keys"))).scalar()
        sync = (await conn.execute(sa.text("PRAGMA synchronous"))).scalar()
        busy = (await conn.execute(sa.text("PRAGMA busy_timeout"))).scalar()
    assert (fk, sync) == (1, 1)  # foreign keys on, synchronous=NORMAL
    assert busy is not None
    assert busy >= 5000
    with sqlite3.connect(tmp_path / "w.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_writes_wait_for_another_process_holding_the_lock(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """A `baton db` command in another process holding the write lock delays, never fails."""
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    pending = asyncio.ensure_future(sqlite_db.write(insert_flow("after-lock")))
    await asyncio.sleep(0.5)
    assert not pending.done()
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(pending, 10) == "after-lock"


async def test_close_commits_what_was_queued(tmp_path: Path) -> None:
    settings = Settings.from_env({DATABASE_URL_VAR: f"sqlite:///{tmp_path / 'c.db'}"})
    db = Database(settings)
    await ensure_schema(db.migration_engine)
    await db.start()
    futures = [asyncio.ensure_future(db.write(insert_flow(f"q{i}"))) for i in range(50)]
    await asyncio.sleep(0)  # queued, not yet run
    await db.close()
    assert [f.result() for f in futures] == [f"q{i}" for i in range(50)]
    with sqlite3.connect(tmp_path / "c.db") as raw:
        assert raw.execute("SELECT count(*) FROM flow").fetchone() == (50,)


async def test_the_writer_recovers_a_broken_connection(sqlite_db: Database) -> None:
    """The lock is tried on the event loop for quick jobs; a connection that fails there
    fails its batch (in the thread, which reconnects) instead of stopping the writer."""
    writer = sqlite_db._writer
    assert writer is not None
    assert writer._conn is not None
    driver = writer._conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    driver.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed database"):
        await asyncio.wait_for(sqlite_db.write(insert_flow("lost"), quick=True), 10)
    assert await asyncio.wait_for(sqlite_db.write(insert_flow("kept"), quick=True), 10) == "kept"
    assert await _names(sqlite_db) == {"kept"}
