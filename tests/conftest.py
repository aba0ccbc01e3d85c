"""Fixtures: a real SQLite file or a real PostgreSQL database per test, the app with its real
lifespan, and an HTTP client talking to it in-process."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from baton.server.app import create_app
from baton.settings import DATABASE_URL_VAR, Settings
from tests.support.postgres import PostgresCluster

# pytest-xdist's worker processes ignore SIGINT, and an ignored signal stays ignored in
# every program they start: Ctrl-C in the subprocesses under test would do nothing.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().init().start()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster) -> str:
    return pg_cluster.url(pg_cluster.create_database())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Services off: API tests drive time-dependent work (scheduling, late runs) explicitly.
    env = {"BATON_HOME": str(tmp_path / "home"), DATABASE_URL_VAR: database_url}
    return Settings.from_env(env).with_overrides(services=False)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://baton") as client:
        yield client
