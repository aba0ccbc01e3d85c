"""PostgreSQL's own programs (pg_dump, pg_restore), found and run for backups and restores."""

from __future__ import annotations

import asyncio
import glob
import os
import re
import shutil
from pathlib import Path

from sqlalchemy.engine import URL

from baton.db.backup_archive import BackupError, Progress

PG_BIN_VAR = "BATON_PG_BIN"


def find_pg_tool(name: str, pg_bin: str | None = None) -> str:
    """The path of a PostgreSQL client program: in the folder BATON_PG_BIN names, else on PATH."""
    if pg_bin:
        candidate = Path(pg_bin).expanduser() / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        raise BackupError(f"{name} not found in {PG_BIN_VAR}={pg_bin}")
    found = shutil.which(name)
    if found:
        return found
    # Debian keeps each server version's programs off PATH; take the newest.
    versions = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(m.group(1)) if (m := re.search(r"/(\d+)/bin/", p)) else 0,
    )
    if versions:
        return versions[-1]
    raise BackupError(
        f"{name} not found on PATH: install the PostgreSQL client programs (Debian: "
        f"apt-get install postgresql-client) or set {PG_BIN_VAR} to the folder holding {name}"
    )


def libpq_conninfo(url: URL) -> str:
    """A libpq connection string for the pg_* programs; the password goes by environment."""
    parts: dict[str, object] = {
        "host": url.host,
        "port": url.port or 5432,
        "dbname": url.database,
        "user": url.username,
    }
    ssl = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl, str):
        parts["sslmode"] = {"true": "require", "false": "disable"}.get(ssl.lower(), ssl)
    return " ".join(f"{key}={_quote(value)}" for key, value in parts.items() if value is not None)


def _quote(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


async def run_pg_tool(
    cmd: list[str], url: URL, *, progress: Progress, step: str, total: int, marker: str
) -> None:
    """Run pg_dump or pg_restore (with --verbose): each stderr line with `marker` is a table
    done; on failure the BackupError carries the program's last error lines."""
    env = {**os.environ, "LC_MESSAGES": "C", "PGAPPNAME": "baton-backup", "PGCONNECT_TIMEOUT": "10"}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    assert proc.stderr is not None
    done = 0
    errors: list[str] = []
    progress(step, 0, total)
    async for raw in proc.stderr:
        line = raw.decode(errors="replace").strip()
        if marker in line:
            done += 1
            progress(step, min(done, total), total)
        elif "error:" in line or "FATAL:" in line or "ERROR:" in line:
            errors.append(line)
    if await proc.wait() != 0:
        reason = "; ".join(errors[-2:]) or f"exit code {proc.returncode}"
        raise BackupError(f"{Path(cmd[0]).name} failed: {reason}")
    progress(step, total, total)


async def count_dump_entries(pg_restore: str, dump: Path, file: Path) -> int:
    """How many entries `pg_restore --list` reads from the dump: it parses the whole TOC."""
    proc = await asyncio.create_subprocess_exec(
        pg_restore, "--list", str(dump), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "LC_MESSAGES": "C"},
    )  # fmt: skip
    out, err = await proc.communicate()
    if proc.returncode != 0:
        reason = err.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        raise BackupError(f"{file} holds a dump pg_restore cannot read: {reason[0]}")
    return sum(1 for line in out.decode(errors="replace").splitlines() if line and line[0] != ";")
