"""Compatibility tests: the real Prefect 3.9.1 client (from .venv-prefect) against a real
`baton server start`, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from baton.settings import DATABASE_URL_VAR
from tests.support.postgres import PostgresCluster
from tests.support.server import ServerProcess, baton_env, baton_server

ROOT = Path(__file__).resolve().parents[2]
PREFECT_BIN = ROOT / ".venv-prefect" / "bin"
FLOWS = Path(__file__).parent / "flows"

pytestmark = pytest.mark.compat


@dataclass
class Prefect:
    """Runs the real client's Python and CLI against one Baton server."""

    server: ServerProcess
    home: Path

    @property
    def api(self) -> str:
        return self.server.api_url

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
        env.update(
            PREFECT_API_URL=self.api,
            PREFECT_HOME=str(self.home),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_LOGGING_COLORS="false",
            NO_COLOR="1",
            COLUMNS="200",
        )
        return env

    def python(
        self, script: str, *args: str, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PREFECT_BIN / "python"), str(FLOWS / script), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.home,
        )

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PREFECT_BIN / "prefect"), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.home,
        )

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.api}{path}", timeout=30)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: Any = None) -> Any:
        response = httpx.post(f"{self.api}{path}", json=body or {}, timeout=30)
        response.raise_for_status()
        return response.json()

    def patch(self, path: str, body: Any) -> None:
        response = httpx.patch(f"{self.api}{path}", json=body, timeout=30)
        response.raise_for_status()

    def eventually(self, check: Callable[[], Any], timeout: float = 20) -> Any:
        """Poll `check` until it returns a truthy value (events are recorded asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.2)


def reported(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON line a flow script prints last on stdout (ids of what it made)."""
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            value: dict[str, Any] = json.loads(line)
            return value
    raise AssertionError(f"no report printed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def prefect(
    request: pytest.FixtureRequest, tmp_path: Path, pg_cluster: PostgresCluster
) -> Iterator[Prefect]:
    if not (PREFECT_BIN / "prefect").exists():
        pytest.fail(".venv-prefect is missing: run `make prefect`")
    extra = {}
    if request.param == "postgresql":
        extra[DATABASE_URL_VAR] = pg_cluster.url(pg_cluster.create_database())
    home = tmp_path / "prefect-home"
    home.mkdir()
    with baton_server(baton_env(tmp_path / "baton-home", **extra)) as server:
        yield Prefect(server, home)
