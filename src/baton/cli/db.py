"""`baton db`: schema migrations, backups and restores, run directly against the configured
database."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from baton.cli.output import err, fail, note, out
from baton.cli.vacuum import vacuum
from baton.db import backup as backups
from baton.db import migrate
from baton.db.backup_archive import DIALECT_NAMES, BackupError
from baton.db.backup_archive import Progress as ProgressReport
from baton.db.engine import create_engine
from baton.db.pg_tools import PG_BIN_VAR
from baton.db.preflight import prepare_database_connection
from baton.errors import ConfigError, StartupError
from baton.settings import Settings, mask_url

app = typer.Typer(
    help="Manage the database named by PREFECT_SERVER_DATABASE_CONNECTION_URL "
    "(default: SQLite in BATON_HOME).",
    no_args_is_help=True,
)

T = TypeVar("T")


def _run(action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
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


def _settings_ready() -> Settings:
    """The settings, once the database answers (PostgreSQL may still be starting)."""
    try:
        settings = Settings.from_env()
        url = settings.db_url
        note(f"Database {mask_url(url)}")
        if not settings.is_sqlite:

            async def wait() -> None:
                engine = create_engine(url, pool_size=1, max_overflow=0)
                try:
                    await prepare_database_connection(settings, engine, note)
                finally:
                    await engine.dispose()

            asyncio.run(wait())
        return settings
    except (ConfigError, StartupError) as exc:
        fail(str(exc))


@contextmanager
def _progress() -> Iterator[ProgressReport]:
    """A progress bar per step on stderr, gone when the command finishes."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        steps: dict[str, TaskID] = {}

        def report(step: str, done: float, total: float | None) -> None:
            if step not in steps:
                steps[step] = bar.add_task(step, total=total)
            bar.update(steps[step], completed=done, total=total)

        try:
            yield report
        except BackupError as exc:
            bar.stop()
            fail(str(exc))


def _size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


@app.command()
def backup(
    file: Annotated[
        Path,
        typer.Argument(
            help="The backup file to write (replaced if it exists), or a folder to write "
            "baton-<UTC time>.tar[.gz] in."
        ),
    ],
) -> None:
    """Back up the database into one file, safely while the server runs.

    SQLite is copied with its online backup API; PostgreSQL with pg_dump (on PATH, or in
    the folder BATON_PG_BIN names). The file holds a manifest with the schema revision,
    rows per table and a SHA-256 checksum.
    """
    settings = _settings_ready()
    url = settings.db_url
    if file.is_dir():
        file = file / backups.default_name(url)
    with _progress() as progress:
        manifest = backups.backup(url, file, progress=progress, pg_bin=os.environ.get(PG_BIN_VAR))
    out.print(
        f"Backed up {mask_url(url)} at revision {manifest.schema_revision} "
        f"({manifest.total_rows} rows in {len(manifest.row_counts)} tables) to {file} "
        f"({_size(file.stat().st_size)})."
    )


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="The backup file to check.")],
) -> None:
    """Check a backup file: archive, manifest, checksum, and that the data inside is usable.

    Exits 1, naming what is wrong, for a damaged, truncated or foreign file.
    """
    with _progress() as progress:
        report = backups.verify(file, progress=progress, pg_bin=os.environ.get(PG_BIN_VAR))
    manifest = report.manifest
    for check in report.checks:
        out.print(f"  ok  {check}")
    out.print(
        f"{file}: a good {DIALECT_NAMES[manifest.dialect]} backup made "
        f"{manifest.created} by Baton {manifest.baton_version}, revision "
        f"{manifest.schema_revision}, {manifest.total_rows} rows in "
        f"{len(manifest.row_counts)} tables."
    )


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="The backup file to restore.")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a database that already holds data.")
    ] = False,
) -> None:
    """Restore a backup into the configured database, then check it and migrate it forward.

    Stop the server first. A database that holds rows is only replaced with --force. After
    the restore the rows per table are compared with the backup's manifest; a backup from
    an older schema is then migrated to the latest revision.
    """
    settings = _settings_ready()
    url = settings.db_url
    with _progress() as progress:
        report = backups.restore(
            url, file, force=force, progress=progress, pg_bin=os.environ.get(PG_BIN_VAR)
        )
    manifest = report.manifest
    out.print(
        f"Restored {file} into {report.target}: {manifest.total_rows} rows in "
        f"{len(manifest.row_counts)} tables, counts match the manifest."
    )
    if report.migrated_to:
        out.print(f"Migrated the schema from {manifest.schema_revision} to {report.migrated_to}.")
    else:
        out.print(f"Schema at revision {manifest.schema_revision} (head).")


# `baton db vacuum` lives in its own module; it is one of this group's commands.
app.command("vacuum")(vacuum)
