"""`baton db backup / verify / restore` on both dialects, against a server that keeps writing.

The archive is read here with tarfile and json, not with Baton's code, so the documented
format (a tar with manifest.json and the database file) is pinned by the tests.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import tarfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from baton.db import backup as backups
from baton.db.backup_archive import BackupError
from baton.db.engine import create_engine
from baton.db.migrate import head_revision, revisions
from baton.settings import DATABASE_URL_VAR, parse_database_url
from tests.support.postgres import PASSWORD
from tests.support.server import baton_env, baton_server, run_baton

Env = dict[str, str]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def new_env(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Env]:
    """Makes the environment of a fresh, empty database (a new BATON_HOME or PG database)."""

    def make(name: str) -> Env:
        extra = {}
        if request.param == "postgresql":
            cluster = request.getfixturevalue("pg_cluster")
            extra[DATABASE_URL_VAR] = cluster.url(cluster.create_database())
        return _env(tmp_path / name, **extra)

    return make


def _env(home: Path, **extra: str) -> Env:
    # Wide enough that no message is wrapped.
    return baton_env(home, COLUMNS="1000", **extra)


def _url(env: Env) -> str:
    return env.get(DATABASE_URL_VAR) or f"sqlite+aiosqlite:///{env['BATON_HOME']}/baton.db"


def _counts(env: Env) -> dict[str, int]:
    async def go() -> dict[str, int]:
        engine = create_engine(parse_database_url(_url(env)))
        try:
            async with engine.connect() as conn:
                names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
                return {
                    name: (
                        await conn.execute(sa.text(f'SELECT count(*) FROM "{name}"'))
                    ).scalar_one()
                    for name in names
                    if name != "alembic_version"
                }
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _manifest(file: Path) -> dict[str, Any]:
    with tarfile.open(file, "r:*") as tar:
        assert tar.getnames()[0] == "manifest.json"
        raw = tar.extractfile("manifest.json")
        assert raw is not None
        manifest: dict[str, Any] = json.loads(raw.read())
    return manifest


def _ok(*args: str, env: Env) -> str:
    done = run_baton(*args, env=env, timeout=120)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done.stdout


def _refused(*args: str, env: Env) -> str:
    """Run a command that must fail cleanly; returns its one-line error."""
    done = run_baton(*args, env=env, timeout=120)
    assert done.returncode == 1, f"{args}: {done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def _log(run_id: str, message: str) -> dict[str, object]:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {
        "name": "ops-test",
        "level": 20,
        "message": message,
        "timestamp": now,
        "flow_run_id": run_id,
        "task_run_id": None,
    }


def _seed(api: str, runs: int) -> tuple[str, list[str]]:
    """A flow with `runs` flow runs, each with two log lines; returns the flow and run ids."""
    with httpx.Client(base_url=api, timeout=10) as client:
        flow = client.post("/flows/", json={"name": "ops-backup"})
        assert flow.status_code in (200, 201), flow.text
        flow_id = flow.json()["id"]
        ids = []
        for i in range(runs):
            run = client.post("/flow_runs/", json={"flow_id": flow_id, "name": f"seed-{i}"})
            assert run.status_code == 201, run.text
            ids.append(run.json()["id"])
            logs = client.post("/logs/", json=[_log(ids[-1], "one"), _log(ids[-1], "two")])
            assert logs.status_code == 201, logs.text
    return flow_id, ids


class Writer(threading.Thread):
    """Posts a flow run and a log line, over and over, until stopped."""

    def __init__(self, api: str, flow_id: str) -> None:
        super().__init__(daemon=True)
        self.api = api
        self.flow_id = flow_id
        self.runs = 0
        self.failures: list[str] = []
        self.stopping = threading.Event()
        self.started_writing = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.api, timeout=30) as client:
            while not self.stopping.is_set():
                body = {"flow_id": self.flow_id, "name": f"live-{self.runs}"}
                run = client.post("/flow_runs/", json=body)
                if run.status_code != 201:
                    self.failures.append(run.text)
                    continue
                logs = client.post("/logs/", json=[_log(run.json()["id"], "live")])
                if logs.status_code != 201:
                    self.failures.append(logs.text)
                self.runs += 1
                self.started_writing.set()


def test_round_trip_while_the_server_writes(new_env: Callable[[str], Env], tmp_path: Path) -> None:
    source = new_env("source")
    file = tmp_path / "backup.tar"
    with baton_server(source) as server:
        flow_id, seeded = _seed(server.api_url, 20)
        writer = Writer(server.api_url, flow_id)
        writer.start()
        try:
            assert writer.started_writing.wait(30)
            before = writer.runs
            out = _ok("db", "backup", str(file), env=source)
            after = writer.runs
        finally:
            writer.stopping.set()
            writer.join(30)
        assert writer.failures == []
        assert after > before, "the server took no writes while the backup ran"
    assert "Backed up" in out

    assert file.stat().st_mode & 0o777 == 0o600
    manifest = _manifest(file)
    counts = manifest["row_counts"]
    # One snapshot, taken while the writer ran: some of its runs are in, later ones are not.
    # (+1: the writer counts a run when its answer arrives; it may be committed before.)
    assert 20 + before <= counts["flow_run"] <= 20 + after + 1
    assert counts["flow"] == 1
    assert counts["flow_run_state"] == counts["flow_run"]
    # Each live run is posted before its log line: the snapshot may fall between the two.
    live_runs = counts["flow_run"] - 20
    assert counts["log"] - 40 in (live_runs, live_runs - 1)
    assert manifest["schema_revision"] == head_revision()
    assert manifest["format_version"] == 1
    assert len(manifest["sha256"]) == 64

    assert "SHA-256 of" in _ok("db", "verify", str(file), env=source)

    target = new_env("target")
    out = _ok("db", "restore", str(file), env=target)
    assert "counts match the manifest" in out
    assert _counts(target) == counts

    with baton_server(target) as restored, httpx.Client(base_url=restored.api_url) as client:
        run = client.get(f"/flow_runs/{seeded[7]}")
        assert run.status_code == 200, run.text
        assert run.json()["name"] == "seed-7"
        assert client.post("/flow_runs/count", json={}).json() == counts["flow_run"]
        logs = client.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [seeded[7]]}}})
        assert [log["message"] for log in logs.json()] == ["one", "two"]

    # The restored database now holds rows: a second restore needs --force.
    error = _refused("db", "restore", str(file), env=target)
    assert "is not empty" in error
    assert "--force" in error
    assert " in log" in error
    assert PASSWORD not in error
    out = _ok("db", "restore", "--force", str(file), env=target)
    assert _counts(target) == counts


def test_an_older_backup_is_migrated_forward(new_env: Callable[[str], Env], tmp_path: Path) -> None:
    older = revisions()[1]
    source = new_env("source")
    with baton_server(source) as server:
        _, ids = _seed(server.api_url, 3)
    _ok("db", "downgrade", older, env=source)
    file = tmp_path / "old.tar"
    _ok("db", "backup", str(file), env=source)
    manifest = _manifest(file)
    assert manifest["schema_revision"] == older
    assert manifest["row_counts"]["flow_run"] == 3

    # A server started on the target made the latest schema, with no rows: that is empty,
    # and the restore replaces the newer tables with the backup's older ones.
    target = new_env("target")
    with baton_server(target):
        pass
    out = _ok("db", "restore", str(file), env=target)
    assert f"Migrated the schema from {older} to {head_revision()}" in out
    assert _ok("db", "current", env=target).strip() == f"{head_revision()} (head)"
    with baton_server(target) as restored:
        run = httpx.get(f"{restored.api_url}/flow_runs/{ids[2]}")
        assert run.status_code == 200, run.text


def _corrupt(good: Path, how: str, into: Path) -> Path:
    data = bytearray(good.read_bytes())
    bad = into / f"{how}.tar"
    if how == "flipped":
        if data[:2] == b"\x1f\x8b":  # gzip: any byte of the compressed stream
            middle = len(data) // 2
        else:  # plain tar: bytes inside the database copy, not the padding after it
            with tarfile.open(good) as tar:
                member = tar.getmember(_manifest(good)["data_file"])
            middle = member.offset_data + member.size // 2
        for offset in range(middle, middle + 64):
            data[offset] ^= 0x5A
        bad.write_bytes(bytes(data))
    elif how == "truncated":
        bad.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "random":
        bad.write_bytes(random.Random(9).randbytes(len(data)))
    elif how == "empty":
        bad.write_bytes(b"")
    elif how == "foreign-tar":
        with tarfile.open(bad, "w") as tar:
            body = b"hello"
            info = tarfile.TarInfo("notes.txt")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    elif how == "bad-manifest":
        _rewrite_manifest(good, bad, lambda manifest: manifest.pop("sha256"))
    return bad


def _rewrite_manifest(good: Path, bad: Path, change: Callable[[dict[str, Any]], object]) -> None:
    """A copy of the archive `good` whose manifest `change` edited; the data is untouched."""
    with tarfile.open(good, "r:*") as src, tarfile.open(bad, "w") as tar:
        for member in src.getmembers():
            raw = src.extractfile(member)
            assert raw is not None
            body = raw.read()
            if member.name == "manifest.json":
                manifest = json.loads(body)
                change(manifest)
                body = json.dumps(manifest).encode()
                member.size = len(body)
            tar.addfile(member, io.BytesIO(body))


EXPECTED = {
    "flipped": ("is corrupted", "is truncated or damaged"),
    "truncated": ("is truncated",),
    "random": ("is not a Baton backup",),
    "empty": ("is not a Baton backup",),
    "foreign-tar": ("is not a Baton backup: it does not begin with manifest.json",),
    "bad-manifest": ("has a damaged manifest.json: sha256",),
}


def test_damaged_files_are_refused(new_env: Callable[[str], Env], tmp_path: Path) -> None:
    source = new_env("source")
    _ok("db", "upgrade", env=source)
    good = tmp_path / "good.tar"
    backups.backup(parse_database_url(_url(source)), good)
    target = new_env("target")
    target_url = parse_database_url(_url(target))

    # The library raises BackupError, and nothing else, for every kind of damage...
    for how, words in EXPECTED.items():
        bad = _corrupt(good, how, tmp_path)
        with pytest.raises(BackupError) as verified:
            backups.verify(bad)
        with pytest.raises(BackupError) as restored:
            backups.restore(target_url, bad)
        for error in (str(verified.value), str(restored.value)):
            assert str(bad) in error, (how, error)
            assert any(word in error for word in words), (how, error)
    if target_url.get_backend_name() == "postgresql":
        assert _counts(target) == {}, "something was restored from a damaged file"
    else:
        assert not Path(target_url.database or "").exists()

    # An intact file from a newer Baton: readable, but not restorable here.
    newer = tmp_path / "newer-schema.tar"
    _rewrite_manifest(good, newer, lambda manifest: manifest.update(schema_revision="9999"))
    assert backups.verify(newer).manifest.schema_revision == "9999"
    with pytest.raises(BackupError, match="revision 9999, which this Baton"):
        backups.restore(target_url, newer)
    newer_format = tmp_path / "newer-format.tar"
    _rewrite_manifest(good, newer_format, lambda manifest: manifest.update(format_version=2))
    with pytest.raises(BackupError, match=r"written by a newer Baton \(backup format 2\)"):
        backups.verify(newer_format)

    # ... which the CLI prints as one line, exit code 1.
    bad = _corrupt(good, "flipped", tmp_path)
    for command in ("verify", "restore"):
        assert str(bad) in _refused("db", command, str(bad), env=target)
    error = _refused("db", "verify", str(tmp_path / "missing.tar"), env=target)
    assert error == f"Error: No backup file at {tmp_path / 'missing.tar'}"


@pytest.mark.pg
def test_restore_across_dialects_is_refused(tmp_path: Path, pg_url: str) -> None:
    sqlite_env = _env(tmp_path / "sqlite")
    _ok("db", "upgrade", env=sqlite_env)
    file = tmp_path / "sqlite.tar"
    _ok("db", "backup", str(file), env=sqlite_env)
    error = _refused(
        "db", "restore", str(file), env=_env(tmp_path / "pg", **{DATABASE_URL_VAR: pg_url})
    )
    assert "SQLite backup" in error
    assert "PostgreSQL" in error
    assert "not supported" in error


@pytest.mark.pg
def test_missing_pg_dump_is_one_line(tmp_path: Path, pg_url: str) -> None:
    env = _env(tmp_path, **{DATABASE_URL_VAR: pg_url, "BATON_PG_BIN": str(tmp_path)})
    _ok("db", "upgrade", env=env)
    error = _refused("db", "backup", str(tmp_path / "b.tar"), env=env)
    assert error == f"Error: pg_dump not found in BATON_PG_BIN={tmp_path}"
    assert not (tmp_path / "b.tar").exists()


def test_backup_of_no_database_is_refused(tmp_path: Path) -> None:
    env = _env(tmp_path / "home")
    error = _refused("db", "backup", str(tmp_path / "b.tar"), env=env)
    assert "nothing to back up" in error
