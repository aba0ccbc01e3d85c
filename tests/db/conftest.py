"""A migrated SQLite database for the tests of the database layer itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from baton.db.database import Database
from baton.db.migrate import ensure_schema
from baton.settings import DATABASE_URL_VAR, Settings


@pytest.fixture
async def sqlite_db(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """Its fast paths are BATON_FAST_PATHS's value, given by indirect parametrization
    (all of them unless a test says otherwise)."""
    fast_paths = getattr(request, "param", "1")
    env = {DATABASE_URL_VAR: f"sqlite:///{tmp_path / 'w.db'}", "BATON_FAST_PATHS": fast_paths}
    settings = Settings.from_env(env)
    db = Database(settings)
    await ensure_schema(db.migration_engine)
    await db.start()
    yield db
    await db.close()
