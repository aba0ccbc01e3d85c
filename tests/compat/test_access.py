"""The real Prefect client, worker and CLI against a Baton that checks access: basic auth
like the reference, API keys with roles, and HTTPS (surface §5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.compat.conftest import Prefect, reported
from tests.support.server import (
    ServerProcess,
    baton_env,
    baton_server,
    run_baton,
    self_signed_certificate,
)

pytestmark = pytest.mark.compat


class Client(Prefect):
    """The real client with credentials (and a CA file for HTTPS)."""

    def __init__(self, server: ServerProcess, home: Path, **settings: str) -> None:
        super().__init__(server, home)
        self.settings = settings

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.settings}


def api(server: ServerProcess, headers: dict[str, str]) -> httpx.Client:
    return httpx.Client(base_url=server.api_url, headers=headers, verify=server.verify, timeout=30)


def task_runs_of(http: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    body = {"flow_runs": {"id": {"any_": [run_id]}}}
    found: list[dict[str, Any]] = http.post("/task_runs/filter", json=body).json()
    return found


def test_basic_auth(tmp_path: Path) -> None:
    env = baton_env(tmp_path / "baton", PREFECT_SERVER_API_AUTH_STRING="admin:pass")
    home = tmp_path / "client"
    home.mkdir()
    with baton_server(env) as server:
        signed = Client(server, home, PREFECT_API_AUTH_STRING="admin:pass")
        done = signed.python("s1_tasks.py")
        assert done.returncode == 0, done.stdout + done.stderr
        run_id = reported(done)["flow_run_id"]
        with api(server, {"Authorization": "Basic YWRtaW46cGFzcw=="}) as http:
            assert http.get(f"/flow_runs/{run_id}").json()["state_type"] == "COMPLETED"
            # Task runs come only through the events socket, which checked the auth frame.
            assert signed.eventually(lambda: len(task_runs_of(http, run_id)) == 3)
        stranger = Client(server, home)
        refused = stranger.python("s1_tasks.py")
        assert refused.returncode != 0
        wrong = Client(server, home, PREFECT_API_AUTH_STRING="admin:nope")
        assert wrong.cli("flow-run", "ls").returncode != 0


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[tuple[ServerProcess, dict[str, str], Path]]:
    env = baton_env(tmp_path / "baton", BATON_AUTH_MODE="keys")
    keys = {}
    for role in ("developer", "worker", "viewer"):
        made = run_baton("api-key", "create", "--name", role, "--role", role, "--json", env=env)
        assert made.returncode == 0, made.stderr
        keys[role] = json.loads(made.stdout)["key"]
    home = tmp_path / "client"
    home.mkdir()
    with baton_server(env) as server:
        yield server, keys, home


def test_a_worker_key_runs_a_deployment_a_viewer_key_cannot_write(
    keyed: tuple[ServerProcess, dict[str, str], Path],
) -> None:
    server, keys, home = keyed
    developer = Client(server, home, PREFECT_API_KEY=keys["developer"])
    worker = Client(server, home, PREFECT_API_KEY=keys["worker"])
    viewer = Client(server, home, PREFECT_API_KEY=keys["viewer"])

    assert developer.cli("work-pool", "create", "p1", "--type", "process").returncode == 0
    deployed = developer.python("deploy_to_pool.py", "p1", "wflow.py:wf", "d1")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    started = developer.cli("deployment", "run", "wf/d1")
    assert started.returncode == 0, started.stdout + started.stderr

    ran = worker.cli("worker", "start", "--pool", "p1", "--run-once", timeout=180)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    with api(server, {"Authorization": f"Bearer {keys['viewer']}"}) as http:
        [run] = http.post("/flow_runs/filter", json={}).json()
        assert run["state_type"] == "COMPLETED"
        # The flow process sent its task-run events without credentials (the client does
        # not send API keys to a self-hosted events socket): accepted, so they are recorded.
        assert worker.eventually(lambda: len(task_runs_of(http, run["id"])) == 1)

    listed = viewer.cli("flow-run", "ls")
    assert listed.returncode == 0, listed.stderr
    assert run["name"] in listed.stdout
    refused = viewer.cli("variable", "set", "x", "1")
    assert refused.returncode != 0
    assert "403" in refused.stdout + refused.stderr
    with api(server, {"Authorization": f"Bearer {keys['viewer']}"}) as http:
        assert http.post("/variables/", json={"name": "x", "value": 1}).status_code == 403

    # Revoked: refused at once.
    revoke = run_baton("api-key", "revoke", "viewer", env=baton_env(home.parent / "baton"))
    assert revoke.returncode == 0, revoke.stderr
    with api(server, {"Authorization": f"Bearer {keys['viewer']}"}) as http:
        assert http.post("/flow_runs/filter", json={}).status_code == 401


def test_https(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    home = tmp_path / "client"
    home.mkdir()
    with baton_server(baton_env(tmp_path / "baton"), tls=(cert, key)) as server:
        assert server.api_url.startswith("https://")
        client = Client(server, home, PREFECT_API_SSL_CERT_FILE=str(cert))
        done = client.python("s1_tasks.py")
        assert done.returncode == 0, done.stdout + done.stderr
        run_id = reported(done)["flow_run_id"]
        with api(server, {}) as http:
            assert http.get(f"/flow_runs/{run_id}").json()["state_type"] == "COMPLETED"
            # Events over WSS too.
            assert client.eventually(lambda: len(task_runs_of(http, run_id)) == 3)
        untrusted = Client(server, home)
        assert untrusted.cli("flow-run", "ls").returncode != 0
