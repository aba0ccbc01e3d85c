"""What `baton server start` and `baton db` check of the database before they use it: that
it answers (SQLite's folder made, PostgreSQL waited for) and whether its schema is behind.

Each failure becomes a StartupError whose message tells the user what to do.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from baton.db.engine import create_engine
from baton.db.migrate import MIGRATE_URL_VAR, current_revision, head_revision
from baton.errors import StartupError
from baton.settings import DATABASE_URL_VAR, Settings

# PostgreSQL SQLSTATEs that retrying will not fix.
_FATAL_SQLSTATES = {
    "28P01": "PostgreSQL at {where} refused the password for user {user!r}",
    "28000": "PostgreSQL at {where} refused the login of user {user!r}",
    "3D000": "PostgreSQL at {where} has no database {db!r}; create it first (createdb {db})",
}


async def schema_is_behind(settings: Settings, say: Callable[[str], None]) -> bool:
    """Wait for the database; True if its schema needs migrating to head."""
    engine = create_engine(settings.db_url, pool_size=1, max_overflow=0)
    try:
        await prepare_database_connection(settings, engine, say)
        try:
            return await current_revision(engine) != head_revision()
        except Exception as exc:
            raise StartupError(f"Could not migrate the database schema: {exc}") from exc
    finally:
        await engine.dispose()


def start_migration(url: URL) -> subprocess.Popen[bytes]:
    """Upgrade the schema at `url` to head in a child process, `python -m baton.db.migrate`:
    Alembic and Mako would otherwise stay loaded in the server for its whole life (~5 MB of
    a new database's idle memory) after being used once. The URL, which may hold a
    password, goes by environment, not the command line. The caller may go on meanwhile
    (`baton server start` loads the app) and then calls `finish_migration`."""
    env = {**os.environ, MIGRATE_URL_VAR: url.render_as_string(hide_password=False)}
    return subprocess.Popen(
        [sys.executable, "-m", "baton.db.migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish_migration(child: subprocess.Popen[bytes]) -> None:
    """Wait for `start_migration`'s child; its error, if any, becomes the user's."""
    _, err = child.communicate()
    if child.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines() or ["no output"]
        raise StartupError(f"Could not migrate the database schema: {lines[-1]}")


async def prepare_database_connection(
    settings: Settings, engine: AsyncEngine, say: Callable[[str], None]
) -> None:
    """Make sure `engine` can connect: create SQLite's folder, or wait for PostgreSQL."""
    url = settings.db_url
    if url.get_backend_name() == "sqlite":
        _ensure_sqlite_dir(url)
    else:
        await wait_for_postgres(engine, url, settings.database_connect_timeout, say)


def _ensure_sqlite_dir(url: URL) -> None:
    path = Path(url.database or "").expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(
            f"Cannot create the folder {path.parent} for the SQLite database: {exc.strerror}. "
            f"Set BATON_HOME or {DATABASE_URL_VAR}."
        ) from None


async def wait_for_postgres(
    engine: AsyncEngine, url: URL, timeout: float, say: Callable[[str], None]
) -> None:
    """Connect, retrying with a visible countdown while PostgreSQL is unreachable."""
    where = f"{url.host}:{url.port or 5432}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
            return
        except Exception as exc:
            sqlstate = _sqlstate(exc)
            if sqlstate in _FATAL_SQLSTATES:
                message = _FATAL_SQLSTATES[sqlstate].format(
                    where=where, user=url.username, db=url.database
                )
                raise StartupError(f"{message} (check {DATABASE_URL_VAR}).") from None
            reason = _reason(exc)
            left = deadline - time.monotonic()
            if left <= 0:
                raise StartupError(
                    f"Could not reach PostgreSQL at {where} within {timeout:g} s ({reason}). "
                    f"Is it running, and is {DATABASE_URL_VAR} right?"
                ) from None
            say(f"Waiting for PostgreSQL at {where} ({reason}): {left:.0f} s left")
            await asyncio.sleep(min(1.0, left))


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or item in seen:
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__, getattr(item, "orig", None)]
    return seen


def _sqlstate(exc: BaseException) -> str | None:
    for item in _chain(exc):
        code = getattr(item, "sqlstate", None) or getattr(item, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def _reason(exc: BaseException) -> str:
    for item in _chain(exc):
        if isinstance(item, socket.gaierror):
            return "host name not found"
        if isinstance(item, ConnectionRefusedError):
            return "connection refused"
        if isinstance(item, TimeoutError):
            return "timed out"
        if isinstance(item, OSError) and item.strerror:
            return item.strerror.lower()
    return type(exc).__name__
