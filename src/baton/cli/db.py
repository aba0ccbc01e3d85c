"""`baton db`: schema migrations, run directly against the configured database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from baton.cli.output import fail, note, out
from baton.db import migrate
from baton.db.engine import create_engine
from baton.errors import ConfigError, StartupError
from baton.settings import Settings, mask_url

app = typer.Typer(
    help="Manage the database named by PREFECT_SERVER_DATABASE_CONNECTION_URL "
    "(default: SQLite in BATON_HOME).",
    no_args_is_help=True,
)

T = TypeVar("T")


def _run(action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    from baton.server.preflight import prepare_database_connection

    try:
        settings = Settings.from_env()
        url = settings.db_url

        async def go() -> T:
            engine = create_engine(url, pool_size=1, max_overflow=0)
            try:
                await prepare_database_connection(settings, engine, note)
                return await action(engine)
            finally:
                await engine.dispose()

        note(f"Database {mask_url(url)}")
        return asyncio.run(go())
    except (ConfigError, StartupError) as exc:
        fail(str(exc))


@app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    _run(lambda engine: migrate.upgrade(engine, revision))
    out.print(f"Database at revision {revision}.")


@app.command()
def downgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision, or 'base' for an empty schema.")
    ],
) -> None:
    """Revert migrations down to REVISION."""
    known = ["base", *migrate.revisions()]
    if revision not in known and not revision.startswith("-"):
        fail(f"Unknown revision {revision!r}; known revisions: {', '.join(known)}")
    _run(lambda engine: migrate.downgrade(engine, revision))
    out.print(f"Database downgraded to {revision}.")


@app.command()
def current() -> None:
    """Print the schema revision of the database and whether it is the latest."""
    rev = _run(migrate.current_revision)
    head = migrate.head_revision()
    if rev is None:
        out.print(f"No schema yet (latest is {head}); `baton db upgrade` creates it.")
    elif rev == head:
        out.print(f"{rev} (head)")
    else:
        out.print(f"{rev} (behind: latest is {head})")
