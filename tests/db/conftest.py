"""A migrated SQLite database for the tests of the database layer itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from baton.db.database import Database
from baton.db.migrate import ensure_schema
from baton.settings import DATABASE_URL_VAR, Settings


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    settings = Settings.from_env({DATABASE_URL_VAR: f"sqlite:///{tmp_path / 'w.db'}"})
    db = Database(settings)
    await ensure_schema(db.migration_engine)
    await db.start()
    yield db
    await db.close()
