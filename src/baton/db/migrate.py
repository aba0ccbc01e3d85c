"""Schema migrations: one Alembic history for both dialects, run on an open connection.

Alembic is imported only when a migration has to run: a server starting on a current
schema checks the revision with one SELECT and never loads it (less memory, faster start).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic imports Mako (for its file templates), and Mako highlights the tracebacks of its
# HTML error pages with Pygments when it can: 42 modules and ~10 MB that migrations never
# use. Mako's own fallback (no colours) is taken instead, whoever imports Alembic here.
sys.modules.setdefault("mako.ext.pygmentplugin", None)  # type: ignore[arg-type]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# `python -m baton.db.migrate` upgrades the database this names (see db/preflight.py).
MIGRATE_URL_VAR = "BATON_MIGRATE_URL"
_REVISION = re.compile(r'^(down_revision|revision) = (None|"([^"]+)")$', re.MULTILINE)


def _config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def revisions() -> list[str]:
    """Every revision, oldest first, read from the migration files (the history is linear)."""
    parent: dict[str | None, str] = {}
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = {m.group(1): m.group(3) for m in _REVISION.finditer(path.read_text())}
        if found.get("revision"):
            parent[found.get("down_revision")] = found["revision"]
    chain: list[str] = []
    current = parent.get(None)
    while current is not None:
        chain.append(current)
        current = parent.get(current)
    return chain


def head_revision() -> str:
    return revisions()[-1]


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def _current(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    return None if version is None else str(version)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    from alembic import command

    async with engine.connect() as conn:
        await conn.run_sync(lambda c: command.upgrade(_config(c), revision))
        await conn.commit()


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    from alembic import command

    async with engine.connect() as conn:
        await conn.run_sync(lambda c: command.downgrade(_config(c), revision))
        await conn.commit()


async def ensure_schema(engine: AsyncEngine) -> bool:
    """Upgrade to head if the schema is behind; a single cheap query when it is current.

    Returns True when migrations were applied.
    """
    if await current_revision(engine) == head_revision():
        return False
    await upgrade(engine)
    return True


def _main() -> int:
    """Upgrade the database named by BATON_MIGRATE_URL to head; the error on stderr if not."""
    from baton.db.engine import create_engine

    async def run() -> None:
        engine = create_engine(sa.make_url(os.environ[MIGRATE_URL_VAR]), pool_size=1)
        try:
            await ensure_schema(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}".replace("\n", " "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main())
