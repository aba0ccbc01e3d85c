"""PostgreSQL going away and coming back, as it does when its container restarts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from baton.settings import DATABASE_URL_VAR
from tests.api.test_error_shape import assert_error
from tests.support.postgres import PostgresCluster
from tests.support.server import baton_env, baton_server

pytestmark = pytest.mark.pg


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[PostgresCluster]:
    """A cluster of this module's own, so stopping it disturbs no other test."""
    cluster = PostgresCluster().init().start()
    try:
        yield cluster
    finally:
        cluster.destroy()


def _poll(url: str, status: int, timeout: float = 20) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = httpx.get(url, timeout=5)
            if response.status_code == status or time.monotonic() > deadline:
                return response
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def test_ready_follows_postgres_without_a_restart(
    tmp_path: Path, own_cluster: PostgresCluster
) -> None:
    url = own_cluster.url(own_cluster.create_database())
    with baton_server(baton_env(tmp_path, **{DATABASE_URL_VAR: url})) as server:
        api = server.api_url
        flow = httpx.post(f"{api}/flows/", json={"name": "survivor"}).json()
        assert httpx.get(f"{api}/ready").status_code == 200

        own_cluster.stop()
        try:
            response = _poll(f"{api}/ready", 503)
            assert_error(response, 503, "unavailable")
            assert int(response.headers["retry-after"]) > 0
            # Routes that need the database say the same, and health still answers.
            assert_error(httpx.get(f"{api}/flows/{flow['id']}", timeout=10), 503, "unavailable")
            assert httpx.get(f"{api}/health").status_code == 200
        finally:
            own_cluster.start()

        assert _poll(f"{api}/ready", 200).status_code == 200
        assert httpx.get(f"{api}/flows/{flow['id']}").json()["name"] == "survivor"
        assert server.proc.poll() is None  # the same process throughout


def test_server_waits_for_postgres_that_starts_later(
    tmp_path: Path, own_cluster: PostgresCluster
) -> None:
    url = own_cluster.url(own_cluster.create_database())
    own_cluster.stop()
    env = baton_env(tmp_path, **{DATABASE_URL_VAR: url, "BATON_DATABASE_CONNECT_TIMEOUT": "60"})
    try:
        with baton_server(env, wait=False) as server:
            time.sleep(3)
            assert server.proc.poll() is None, "gave up while the database was still starting"
            own_cluster.start()
            server.wait_healthy(timeout=30)
            assert httpx.get(f"{server.api_url}/ready").status_code == 200
            _, err = server.stop()
    finally:
        if not own_cluster.running:
            own_cluster.start()
    assert f"Waiting for PostgreSQL at 127.0.0.1:{own_cluster.port}" in err
    assert "s left" in err
