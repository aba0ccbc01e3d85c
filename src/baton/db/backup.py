"""Backups that restore: taken while the server runs, checked on the way back in.

The file format lives in `backup_archive`; the PostgreSQL programs in `pg_tools`.

Consistency while the server writes:
- SQLite is copied with the online backup API inside one read transaction: in WAL mode the
  server's writer goes on, the copy is one snapshot, and the copy never restarts.
- PostgreSQL rows are counted in a REPEATABLE READ transaction whose snapshot pg_dump shares
  (`--snapshot`), so the counts in the manifest describe exactly the rows in the dump.

A restore refuses a database that holds rows unless forced, checks the archive's checksum
before it touches the target, compares the restored rows per table with the manifest, and
then migrates a backup from an older schema forward. Everything a person should read is
raised as BackupError; no CLI code lives here.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

from baton import __version__
from baton.db import migrate
from baton.db.backup_archive import (
    DATA_NAMES,
    DIALECT_NAMES,
    BackupError,
    Manifest,
    Progress,
    extract,
    no_progress,
    read_manifest,
    sha256_file,
    write_archive,
)
from baton.db.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine
from baton.db.pg_tools import count_dump_entries, find_pg_tool, libpq_conninfo, run_pg_tool
from baton.settings import mask_url

_SQLITE_PAGES_PER_STEP = 1024
_NOT_COUNTED = {"alembic_version"}


@dataclass(frozen=True)
class VerifyReport:
    manifest: Manifest
    checks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    target: str
    migrated_to: str | None


# --- backup -------------------------------------------------------------------------------


def default_name(url: URL, when: datetime | None = None) -> str:
    """The file name `baton db backup FOLDER` writes inside FOLDER."""
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"baton-{stamp}.tar" + (".gz" if _dialect(url) == "sqlite" else "")


def backup(
    url: URL, file: Path, *, progress: Progress = no_progress, pg_bin: str | None = None
) -> Manifest:
    """Back up the database at `url` into the archive `file` (replaced atomically)."""
    dialect = _dialect(url)
    file = file.expanduser().absolute()
    if not file.parent.is_dir():
        raise BackupError(f"Cannot write {file}: the folder {file.parent} does not exist")
    with tempfile.TemporaryDirectory(dir=file.parent, prefix=".baton-backup-") as tmp:
        data = Path(tmp) / DATA_NAMES[dialect]
        if dialect == "sqlite":
            revision, counts = _backup_sqlite(_sqlite_path(url), data, progress)
        else:
            tool = find_pg_tool("pg_dump", pg_bin)
            revision, counts = asyncio.run(_backup_postgres(url, tool, data, progress))
        manifest = Manifest(
            baton_version=__version__,
            dialect=dialect,
            schema_revision=revision,
            row_counts=counts,
            data_file=data.name,
            data_size=data.stat().st_size,
            sha256=sha256_file(data, progress),
            created=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            source=mask_url(url),
        )
        write_archive(file, manifest, data, compress=dialect == "sqlite", progress=progress)
    return manifest


def _backup_sqlite(source: Path, copy: Path, progress: Progress) -> tuple[str, dict[str, int]]:
    if not source.is_file():
        raise BackupError(f"No SQLite database at {source}; nothing to back up")
    try:
        src = sqlite3.connect(source, isolation_level=None)
        dst = sqlite3.connect(copy, isolation_level=None)
        try:
            src.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            # One read transaction for the whole copy: a WAL snapshot the writer cannot move,
            # so the backup neither blocks the server nor restarts when the server commits.
            src.execute("BEGIN")
            src.execute("SELECT count(*) FROM sqlite_master").fetchall()
            src.backup(
                dst,
                pages=_SQLITE_PAGES_PER_STEP,
                progress=lambda _s, left, total: progress(
                    "Copying the SQLite database", total - left, total
                ),
            )
            src.execute("COMMIT")
            # A self-contained file: no -wal beside it when restored or inspected.
            dst.execute("PRAGMA journal_mode = DELETE")
            revision = _sqlite_revision(dst)
            counts = _sqlite_counts(dst)
        finally:
            src.close()
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"Cannot back up the SQLite database {source}: {exc}") from None
    if revision is None:
        raise BackupError(f"{source} has no Baton schema yet; nothing to back up")
    return revision, counts


async def _backup_postgres(
    url: URL, pg_dump: str, dump: Path, progress: Progress
) -> tuple[str, dict[str, int]]:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                # pg_dump joins this snapshot, so the counts below describe the dump exactly.
                snapshot = (await conn.execute(sa.text("SELECT pg_export_snapshot()"))).scalar()
                revision = await _pg_revision(conn)
                if revision is None:
                    raise BackupError(
                        f"{mask_url(url)} has no Baton schema yet; nothing to back up"
                    )
                counts = await _pg_counts(conn)
                await run_pg_tool(
                    [
                        pg_dump, "--format=custom", "--verbose", "--no-password",
                        f"--snapshot={snapshot}", f"--file={dump}",
                        f"--dbname={libpq_conninfo(url)}",
                    ],
                    url,
                    progress=progress,
                    step="Dumping PostgreSQL tables",
                    total=len(counts),
                    marker="dumping contents of table",
                )  # fmt: skip
    except (OSError, sa.exc.DBAPIError) as exc:
        raise BackupError(f"Cannot back up {mask_url(url)}: {_reason(exc)}") from None
    finally:
        await engine.dispose()
    return revision, counts


# --- verify -------------------------------------------------------------------------------


def verify(
    file: Path, *, progress: Progress = no_progress, pg_bin: str | None = None
) -> VerifyReport:
    """Check the archive, its manifest and checksum, and that the data inside is usable."""
    with tempfile.TemporaryDirectory(prefix="baton-verify-") as tmp:
        manifest, data = extract(file, Path(tmp), progress)
        checks = [
            f"archive and manifest readable (format {manifest.format_version})",
            f"SHA-256 of {manifest.data_file} matches ({manifest.data_size} bytes)",
        ]
        if manifest.dialect == "sqlite":
            try:
                conn = sqlite3.connect(f"file:{data}?mode=ro", uri=True)
                try:
                    ok = conn.execute("PRAGMA quick_check").fetchone()
                    counts = _sqlite_counts(conn)
                finally:
                    conn.close()
            except sqlite3.Error as exc:
                raise BackupError(f"{file} holds an unreadable SQLite file: {exc}") from None
            if not ok or ok[0] != "ok":
                raise BackupError(f"{file} holds a damaged SQLite file: {ok[0] if ok else '?'}")
            _compare_counts(manifest.row_counts, counts, f"the SQLite file in {file}")
            checks.append("SQLite integrity check passed")
            checks.append(f"row counts match the manifest ({len(counts)} tables)")
        else:
            try:
                tool = find_pg_tool("pg_restore", pg_bin)
            except BackupError as exc:
                checks.append(f"dump contents not checked: {exc}")
            else:
                entries = asyncio.run(count_dump_entries(tool, data, file))
                checks.append(f"pg_restore reads the dump ({entries} entries)")
    return VerifyReport(manifest, checks)


# --- restore ------------------------------------------------------------------------------


def restore(
    url: URL,
    file: Path,
    *,
    force: bool = False,
    progress: Progress = no_progress,
    pg_bin: str | None = None,
) -> RestoreReport:
    """Restore `file` into the database at `url`, check the counts, then migrate forward.

    Counts are compared right after the restore, before migrating: a migration may
    legitimately add, split or drop rows, the backup's snapshot may not.
    """
    dialect = _dialect(url)
    file = file.expanduser().absolute()
    manifest = read_manifest(file)
    target = mask_url(url)
    if manifest.dialect != dialect:
        raise BackupError(
            f"{file} is a {DIALECT_NAMES[manifest.dialect]} backup and the configured database "
            f"{target} is {DIALECT_NAMES[dialect]}; restoring across databases is not supported"
        )
    known = migrate.revisions()
    if manifest.schema_revision not in known:
        raise BackupError(
            f"{file} is at schema revision {manifest.schema_revision}, which this Baton "
            f"({__version__}, latest revision {known[-1]}) does not know; restore it with the "
            f"Baton that made it ({manifest.baton_version}) or a newer one"
        )
    if dialect == "sqlite":
        _restore_sqlite(url, file, manifest, force=force, progress=progress)
    else:
        tool = find_pg_tool("pg_restore", pg_bin)
        with tempfile.TemporaryDirectory(prefix="baton-restore-") as tmp:
            asyncio.run(_restore_postgres(url, tool, file, Path(tmp), force, progress))
    migrated = None
    if manifest.schema_revision != known[-1]:
        progress(f"Migrating {manifest.schema_revision} → {known[-1]}", 0, None)
        asyncio.run(_migrate(url, manifest.schema_revision))
        migrated = known[-1]
    return RestoreReport(manifest, target, migrated)


def _restore_sqlite(
    url: URL, file: Path, manifest: Manifest, *, force: bool, progress: Progress
) -> None:
    path = _sqlite_path(url)
    rows = _sqlite_rows_in(path)
    if rows and not force:
        raise _refuse(mask_url(url), rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Unpack beside the target (same disk), then copy in with SQLite's backup API: the copy
    # is one write transaction, and SQLite itself takes care of the target's -wal and -shm.
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".baton-restore-") as tmp:
        manifest, data = extract(file, Path(tmp), progress)
        try:
            src = sqlite3.connect(f"file:{data}?mode=ro", uri=True)
            dst = sqlite3.connect(path, isolation_level=None)
            try:
                dst.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
                src.backup(
                    dst,
                    pages=_SQLITE_PAGES_PER_STEP,
                    progress=lambda _s, left, total: progress(
                        "Restoring the SQLite database", total - left, total
                    ),
                )
                counts = _sqlite_counts(dst, only=manifest.row_counts)
            finally:
                src.close()
                dst.close()
        except sqlite3.Error as exc:
            raise BackupError(f"Cannot restore into {path}: {exc}") from None
    _compare_counts(manifest.row_counts, counts, str(path))


async def _restore_postgres(
    url: URL, pg_restore: str, file: Path, tmp: Path, force: bool, progress: Progress
) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    target = mask_url(url)
    try:
        async with engine.connect() as conn:
            counts = await _pg_counts(conn)
            rows = {name: n for name, n in counts.items() if n}
            if rows and not force:
                raise _refuse(target, rows)
            manifest, dump = await asyncio.to_thread(extract, file, tmp, progress)
            if counts:
                # Tables a newer schema added are not in the dump; pg_restore --clean would
                # leave them, with foreign keys into the tables it drops.
                progress("Dropping the existing tables", 0, None)
                names = ", ".join(conn.dialect.identifier_preparer.quote(n) for n in counts)
                await conn.execute(
                    sa.text(f"DROP TABLE IF EXISTS {names}, alembic_version CASCADE")
                )
                await conn.commit()
        await run_pg_tool(
            [
                pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges",
                "--no-comments", "--single-transaction", "--exit-on-error", "--verbose",
                "--no-password", f"--dbname={libpq_conninfo(url)}", str(dump),
            ],
            url,
            progress=progress,
            step="Restoring PostgreSQL tables",
            total=len(manifest.row_counts),
            marker="processing data for table",
        )  # fmt: skip
        async with engine.connect() as conn:
            restored = await _pg_counts(conn, only=manifest.row_counts)
    except (OSError, sa.exc.DBAPIError) as exc:
        raise BackupError(f"Cannot restore into {target}: {_reason(exc)}") from None
    finally:
        await engine.dispose()
    _compare_counts(manifest.row_counts, restored, target)


async def _migrate(url: URL, revision: str) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        await migrate.upgrade(engine)
    except Exception as exc:
        raise BackupError(
            f"Restored at revision {revision} and checked, but migrating it forward failed: "
            f"{_reason(exc)}; fix the cause and run `baton db upgrade`"
        ) from exc
    finally:
        await engine.dispose()


def _refuse(target: str, rows: dict[str, int]) -> BackupError:
    biggest = sorted(rows.items(), key=lambda item: -item[1])[:3]
    some = ", ".join(f"{n} in {name}" for name, n in biggest)
    return BackupError(
        f"The database {target} is not empty ({sum(rows.values())} rows: {some}"
        f"{', …' if len(rows) > 3 else ''}); pass --force to replace it"
    )


def _compare_counts(expected: dict[str, int], actual: dict[str, int], where: str) -> None:
    wrong = [
        f"{name} {actual.get(name, 'missing')} (manifest {n})"
        for name, n in sorted(expected.items())
        if actual.get(name) != n
    ]
    if wrong:
        raise BackupError(f"Row counts in {where} differ from the manifest: {', '.join(wrong)}")


# --- SQLite helpers -----------------------------------------------------------------------


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if not exists:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


def _sqlite_counts(conn: sqlite3.Connection, only: dict[str, int] | None = None) -> dict[str, int]:
    names = [
        str(name)
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
        if name not in _NOT_COUNTED and (only is None or name in only)
    ]
    return {
        name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in names
    }


def _sqlite_rows_in(path: Path) -> dict[str, int]:
    """Rows per non-empty table of the SQLite file at `path` (none if there is no file)."""
    if not path.exists() or path.stat().st_size == 0:
        return {}
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            counts = _sqlite_counts(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(
            f"{path} exists and is not a readable SQLite database ({exc}); move it away first"
        ) from None
    return {name: n for name, n in counts.items() if n}


def _sqlite_path(url: URL) -> Path:
    return Path(url.database or "").expanduser().absolute()


# --- PostgreSQL helpers -------------------------------------------------------------------


async def _pg_counts(conn: AsyncConnection, only: dict[str, int] | None = None) -> dict[str, int]:
    names = (
        await conn.execute(
            sa.text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
                "ORDER BY table_name"
            )
        )
    ).scalars()
    quote = conn.dialect.identifier_preparer.quote
    counts = {}
    for name in names.all():
        if name in _NOT_COUNTED or (only is not None and name not in only):
            continue
        counts[str(name)] = int(
            (await conn.execute(sa.text(f"SELECT count(*) FROM {quote(name)}"))).scalar_one()
        )
    return counts


async def _pg_revision(conn: AsyncConnection) -> str | None:
    exists = await conn.execute(
        sa.text(
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = 'alembic_version'"
        )
    )
    if exists.first() is None:
        return None
    version = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar()
    return None if version is None else str(version)


# --- shared -------------------------------------------------------------------------------


def _dialect(url: URL) -> str:
    name = url.get_backend_name()
    if name not in DATA_NAMES:
        raise BackupError(f"Cannot back up a {name} database")
    return name


def _reason(exc: BaseException) -> str:
    if isinstance(exc, sa.exc.DBAPIError):
        exc = exc.orig or exc
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
