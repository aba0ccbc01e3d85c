"""The backup file: one archive, a manifest and the database copy, written and read safely.

Format (format_version 1): a POSIX tar file (PAX headers) holding, in this order,

- `manifest.json`: see `Manifest` (schema revision, rows per table, SHA-256 of the data);
- `database.sqlite3` (SQLite: a self-contained database file, rollback-journal mode) or
  `database.pgdump` (PostgreSQL: `pg_dump --format=custom`).

The tar is gzip-compressed when it holds a SQLite file; pg_dump's custom format is
compressed already. Readers detect either; `tar -xf FILE` unpacks both. The file name does
not matter.

Every damage a reader can meet (not a tar, truncated, bytes flipped, a foreign manifest)
becomes a BackupError that names the file and what is wrong.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pydantic

from baton import __version__

FORMAT = "baton-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DATA_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
DIALECT_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

_CHUNK = 1 << 20
# What reading a damaged archive raises (gzip's CRC errors are OSErrors).
_DAMAGE = (tarfile.TarError, EOFError, zlib.error, OSError)

# progress(step, done, total): called as work advances; total None when unknown.
Progress = Callable[[str, float, float | None], None]


def no_progress(step: str, done: float, total: float | None) -> None:
    """A Progress that shows nothing."""


class BackupError(Exception):
    """A backup, restore or verify that cannot go on; the message is for people."""


class Manifest(pydantic.BaseModel):
    """What a backup holds, written as `manifest.json` at the head of the archive."""

    model_config = pydantic.ConfigDict(frozen=True, extra="ignore")

    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    baton_version: str
    dialect: str
    schema_revision: str
    # Rows per table (alembic_version aside), counted in the same snapshot as the copy.
    row_counts: dict[str, int]
    data_file: str
    data_size: int
    sha256: str
    created: str
    source: str = ""

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


def sha256_file(path: Path, progress: Progress) -> str:
    digest = hashlib.sha256()
    size = path.stat().st_size
    done = 0
    with path.open("rb") as raw:
        while chunk := raw.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            progress("Checksumming", done, size)
    return digest.hexdigest()


# --- writing ------------------------------------------------------------------------------


def write_archive(
    file: Path, manifest: Manifest, data: Path, *, compress: bool, progress: Progress
) -> None:
    """Write the archive beside `file`, then move it into place: never a half-written FILE."""
    partial = file.with_name(f".{file.name}.partial")
    try:
        with _create_tar(partial, compress) as tar:
            body = manifest.model_dump_json(indent=2).encode() + b"\n"
            tar.addfile(_member(MANIFEST_NAME, len(body)), io.BytesIO(body))
            with data.open("rb") as raw:
                reader = _Counting(
                    raw, lambda n: progress("Writing the archive", n, manifest.data_size)
                )
                tar.addfile(_member(data.name, manifest.data_size), reader)
        with partial.open("rb+") as done:
            os.fsync(done.fileno())
        partial.chmod(0o600)  # a backup holds everything the database does
        os.replace(partial, file)
    except OSError as exc:
        raise BackupError(f"Cannot write {file}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)  # left only by a failure or an interrupt


def _create_tar(path: Path, compress: bool) -> tarfile.TarFile:
    if compress:
        return tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT, compresslevel=6)
    return tarfile.open(path, "w", format=tarfile.PAX_FORMAT)


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(time.time())
    info.mode = 0o600
    return info


class _Counting:
    """A file wrapper that reports how many bytes were read so far."""

    def __init__(self, raw: IO[bytes], report: Callable[[int], None]) -> None:
        self._raw = raw
        self._report = report
        self._done = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._done += len(chunk)
        self._report(self._done)
        return chunk


# --- reading ------------------------------------------------------------------------------


def read_manifest(file: Path) -> Manifest:
    """The archive's manifest, checked for shape; the data is not read."""
    with _reading(file) as tar:
        return _manifest(file, tar)


def extract(file: Path, into: Path, progress: Progress) -> tuple[Manifest, Path]:
    """Unpack the data file into the folder `into`, checking its size and SHA-256 on the way."""
    with _reading(file) as tar:
        manifest = _manifest(file, tar)
        try:
            member = tar.next()
            source = tar.extractfile(member) if member and member.isfile() else None
        except _DAMAGE as exc:
            raise _damaged(file, exc) from None
        if member is None or member.name != manifest.data_file or source is None:
            raise BackupError(f"{file} is truncated: {manifest.data_file} is missing")
        target = into / manifest.data_file
        digest = hashlib.sha256()
        done = 0
        with _writing(target, into) as out:
            while True:
                try:
                    chunk = source.read(_CHUNK)
                except _DAMAGE as exc:
                    raise _damaged(file, exc) from None
                if not chunk:
                    break
                digest.update(chunk)
                out.write(chunk)
                done += len(chunk)
                progress("Reading the backup", done, manifest.data_size)
    if done != manifest.data_size:
        raise BackupError(
            f"{file} is truncated: {manifest.data_file} has {done} bytes, "
            f"the manifest says {manifest.data_size}"
        )
    if digest.hexdigest() != manifest.sha256:
        raise BackupError(
            f"{file} is corrupted: the SHA-256 of {manifest.data_file} "
            f"({digest.hexdigest()[:16]}…) does not match the manifest ({manifest.sha256[:16]}…)"
        )
    return manifest, target


@contextmanager
def _reading(file: Path) -> Iterator[tarfile.TarFile]:
    if not file.is_file():
        raise BackupError(f"No backup file at {file}")
    try:
        tar = tarfile.open(file, "r:*")  # noqa: SIM115 (closed by the with below)
    except tarfile.ReadError as exc:
        if "unexpected end" in str(exc) or "truncated" in str(exc):
            raise _damaged(file, exc) from None
        raise BackupError(
            f"{file} is not a Baton backup (not a readable tar archive: {exc})"
        ) from None
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _damaged(file, exc) from None
    except OSError as exc:
        raise BackupError(f"Cannot read {file}: {exc.strerror or exc}") from None
    with tar:
        yield tar


@contextmanager
def _writing(target: Path, into: Path) -> Iterator[IO[bytes]]:
    try:
        with target.open("wb") as out:
            yield out
    except OSError as exc:
        raise BackupError(f"Cannot unpack into {into}: {exc.strerror or exc}") from None


def _damaged(file: Path, exc: BaseException) -> BackupError:
    reason = str(exc).strip().splitlines()[:1] or [type(exc).__name__]
    return BackupError(f"{file} is truncated or damaged: {reason[0]}")


def _manifest(file: Path, tar: tarfile.TarFile) -> Manifest:
    try:
        member = tar.next()
        raw = tar.extractfile(member) if member and member.isfile() else None
        body = raw.read() if raw and member and member.name == MANIFEST_NAME else None
    except _DAMAGE as exc:
        raise _damaged(file, exc) from None
    if body is None:
        raise BackupError(f"{file} is not a Baton backup: it does not begin with {MANIFEST_NAME}")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{file} has a damaged {MANIFEST_NAME} (not JSON)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(f"{file} is not a Baton backup: {MANIFEST_NAME} is not Baton's")
    version = data.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise BackupError(
            f"{file} was written by a newer Baton (backup format {version}); "
            f"this Baton ({__version__}) reads format {FORMAT_VERSION}"
        )
    try:
        manifest = Manifest.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BackupError(
            f"{file} has a damaged {MANIFEST_NAME}: {where}: {first['msg']}"
        ) from None
    if DATA_NAMES.get(manifest.dialect) != manifest.data_file:
        raise BackupError(
            f"{file} has a damaged {MANIFEST_NAME}: dialect {manifest.dialect!r} "
            f"with data file {manifest.data_file!r}"
        )
    return manifest
