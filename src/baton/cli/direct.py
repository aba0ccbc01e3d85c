"""Running a command directly against the configured database (BATON_HOME and
PREFECT_SERVER_DATABASE_CONNECTION_URL), as `baton db …` does: for what must work before
or without a running server, such as making the first admin key."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from baton.cli.output import fail
from baton.errors import BatonError, ConfigError, StartupError
from baton.settings import Settings

if TYPE_CHECKING:
    from baton.db.database import Database

T = TypeVar("T")


def on_database(action: Callable[[Database], Awaitable[T]]) -> T:
    """Run `action` on the database (migrated to the latest schema first); errors a user
    can cause are one line and exit code 1."""

    async def run() -> T:
        from baton.db.database import Database
        from baton.db.migrate import ensure_schema

        settings = Settings.from_env()
        if settings.is_sqlite:  # a first command on a new machine makes Baton's folder
            settings.home.mkdir(parents=True, exist_ok=True)
        db = Database(settings)
        try:
            await ensure_schema(db.migration_engine)
            await db.start()
            return await action(db)
        finally:
            await db.close()

    try:
        return asyncio.run(run())
    except (ConfigError, StartupError) as exc:
        fail(str(exc))
    except BatonError as exc:
        fail(exc.detail)
