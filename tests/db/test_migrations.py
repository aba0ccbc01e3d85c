"""One Alembic history for both dialects: up, down, up again, and it matches tables.py."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from baton.db import migrate
from baton.db.engine import create_engine
from baton.db.tables import metadata
from baton.settings import parse_database_url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(parse_database_url(database_url))
    yield engine
    await engine.dispose()


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    return set(names) - {"alembic_version"}


def _diff(sync_conn: sa.Connection) -> list[object]:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_up_down_up(engine: AsyncEngine) -> None:
    assert await migrate.current_revision(engine) is None
    assert await migrate.ensure_schema(engine) is True
    assert await migrate.current_revision(engine) == migrate.head_revision()
    assert await _tables(engine) == set(metadata.tables)

    await migrate.downgrade(engine, "base")
    assert await migrate.current_revision(engine) is None
    assert await _tables(engine) == set()

    await migrate.upgrade(engine)
    assert await _tables(engine) == set(metadata.tables)
    # At head the check is a no-op.
    assert await migrate.ensure_schema(engine) is False


async def test_each_revision_steps_down_and_up(engine: AsyncEngine) -> None:
    revisions = migrate.revisions()
    for revision in revisions:
        await migrate.upgrade(engine, revision)
        assert await migrate.current_revision(engine) == revision
    for previous in reversed(["base", *revisions[:-1]]):
        await migrate.downgrade(engine, previous)
        assert await migrate.current_revision(engine) == (None if previous == "base" else previous)


async def test_migrations_build_exactly_the_declared_schema(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


def test_the_cheap_revision_reading_agrees_with_alembic() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrate.MIGRATIONS_DIR))
    assert migrate.head_revision() == script.get_current_head()
    assert migrate.revisions() == [r.revision for r in reversed(list(script.walk_revisions()))]


def test_migrating_does_not_load_pygments(tmp_path: Path) -> None:
    """Mako, which Alembic imports, would pull in Pygments (~10 MB) for highlighting; a server
    that migrated a new database at start would carry it for its whole life."""
    script = (
        "import asyncio, sys\n"
        "import sqlalchemy as sa\n"
        "from baton.db.engine import create_engine\n"
        "from baton.db.migrate import ensure_schema\n"
        f"engine = create_engine(sa.make_url('sqlite+aiosqlite:///{tmp_path / 'p.db'}'))\n"
        "assert asyncio.run(ensure_schema(engine))\n"
        "print('alembic' in sys.modules, 'pygments' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["True", "False"]
