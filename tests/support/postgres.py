"""A throwaway PostgreSQL cluster for the tests: initdb in a temp dir, a free port, stopped after.

PostgreSQL refuses to run as root, so when the tests run as root the server binaries run
as the `postgres` system user (or `nobody`) through runuser.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

USER = "baton"
PASSWORD = "baton-test-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bindir() -> Path:
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found; run `make system-deps`")
    return Path(found[-1]).parent


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL as")


class PostgresCluster:
    def __init__(self, port: int | None = None) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="baton-pg-"))
        self.data = self.base / "data"
        self.sockets = self.base / "sockets"
        self.logfile = self.base / "postgres.log"
        self.port = port or free_port()
        self.user = _run_as()
        self._bin = bindir()
        self.running = False

    def _server_cmd(self, tool: str, *args: str) -> list[str]:
        cmd = [str(self._bin / tool), *args]
        return ["runuser", "-u", self.user, "--", *cmd] if self.user else cmd

    def _check(self, cmd: list[str]) -> None:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.logfile.read_text() if self.logfile.exists() else ""
            raise RuntimeError(f"{cmd} failed:\n{done.stdout}\n{done.stderr}\n{log}")

    def init(self) -> PostgresCluster:
        self.sockets.mkdir()
        pwfile = self.base / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if self.user:
            for path in (self.base, self.sockets, pwfile):
                shutil.chown(path, self.user, self.user)
        self._check(
            self._server_cmd(
                "initdb", "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync",
            )
        )  # fmt: skip
        return self

    def start(self) -> PostgresCluster:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=300 -c shared_buffers=64MB"
        )
        self._check(
            self._server_cmd(
                "pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60",
                "-o", options, "start",
            )
        )  # fmt: skip
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self._check(
                self._server_cmd("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            )
            self.running = False

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql+asyncpg://{USER}:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its name."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        admin_url = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"
        self._check([str(self._bin / "psql"), admin_url, "-qc", f'CREATE DATABASE "{name}"'])
        return name
