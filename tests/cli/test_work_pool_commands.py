"""`baton work-pool …` and `baton worker ls` as subprocesses against a real `baton server
start`, with pools, queues, workers and runs created over HTTP as the Prefect client and
worker create them."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from baton.cli.work_pools import MINIMAL_JOB_TEMPLATE, POOL_KEYS, QUEUE_KEYS, WORKER_KEYS
from tests.support.server import ServerProcess, baton_env, baton_server, run_baton


@dataclass
class Served:
    server: ServerProcess
    env: dict[str, str]
    deployment_id: str

    def baton(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_baton(*args, env=self.env)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.server.api_url}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("cli-work-pools")
    with baton_server(baton_env(tmp / "server-home")) as server:
        api = server.api_url
        # What `prefect work-pool create cli-pool --type process` sends (S4), then a queue,
        # a worker's REST heartbeat, and a deployment of the pool with one run waiting.
        pool = {
            "name": "cli-pool",
            "type": "process",
            "base_job_template": {
                "job_configuration": {"command": "{{ command }}"},
                "variables": {"type": "object", "properties": {"command": {"type": "string"}}},
            },
            "is_paused": False,
        }
        httpx.post(f"{api}/work_pools/", json=pool).raise_for_status()
        urgent = {"name": "urgent", "priority": 1, "concurrency_limit": 2, "description": None}
        httpx.post(f"{api}/work_pools/cli-pool/queues", json=urgent).raise_for_status()
        beat = {"name": "cli-worker-1", "heartbeat_interval_seconds": 30}
        httpx.post(f"{api}/work_pools/cli-pool/workers/heartbeat", json=beat).raise_for_status()
        flow = httpx.post(f"{api}/flows/", json={"name": "pooled", "tags": [], "labels": {}})
        deployment = httpx.post(
            f"{api}/deployments/",
            json={
                "name": "on-pool",
                "flow_id": flow.json()["id"],
                "paused": False,
                "schedules": [],
                "enforce_parameter_schema": False,
                "parameter_openapi_schema": {"type": "object", "properties": {}},
                "parameters": {},
                "tags": [],
                "labels": {},
                "work_pool_name": "cli-pool",
                "work_queue_name": None,
                "job_variables": {},
                "pull_steps": [],
                "entrypoint": "flows.py:pooled",
                "path": ".",
            },
        ).json()
        run = {"state": {"type": "SCHEDULED", "name": "Scheduled"}, "parameters": {}}
        httpx.post(
            f"{api}/deployments/{deployment['id']}/create_flow_run", json=run
        ).raise_for_status()
        env = baton_env(tmp / "cli-home", PREFECT_API_URL=api)
        yield Served(server, env, deployment["id"])


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def _refused(done: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def _row(stdout: str, first: str) -> list[str]:
    line = next(line for line in stdout.splitlines() if line.startswith(f"{first} "))
    return re.split(r"\s{2,}", line.strip())


def test_create_takes_the_servers_template_for_known_types(served: Served) -> None:
    said = _ok(served.baton("work-pool", "create", "cli-proc", "--concurrency-limit", "3"))
    assert said.strip() == "Created work pool 'cli-proc' (type process)."
    pool = served.api("GET", "/work_pools/cli-proc")
    known = served.api("GET", "/collections/views/aggregate-worker-metadata")
    assert (
        pool["base_job_template"] == (known["process"]["process"]["default_base_job_configuration"])
    )
    assert (pool["type"], pool["concurrency_limit"], pool["is_paused"]) == ("process", 3, False)
    assert [q["name"] for q in served.api("POST", "/work_pools/cli-proc/queues/filter", {})] == [
        "default"
    ]

    said = _ok(served.baton("work-pool", "create", "cli-docker", "--type", "docker", "--paused"))
    assert said.strip() == "Created work pool 'cli-docker' (type docker, paused)."
    pool = served.api("GET", "/work_pools/cli-docker")
    assert pool["base_job_template"] == MINIMAL_JOB_TEMPLATE
    assert pool["is_paused"] is True

    again = _refused(served.baton("work-pool", "create", "cli-proc"))
    assert again.strip() == (
        'Error: Could not create work pools: A work pool named "cli-proc" already exists.'
    )


def test_ls_table_and_json(served: Served) -> None:
    shown = _ok(served.baton("work-pool", "ls"))
    assert shown.splitlines()[0].split() == [
        "Name",
        "Type",
        "Paused",
        "Concurrency",
        "limit",
        "Status",
    ]
    assert _row(shown, "cli-pool") == ["cli-pool", "process", "no", "-", "READY"]

    rows = json.loads(_ok(served.baton("work-pool", "ls", "--json")))
    assert all(tuple(row) == POOL_KEYS for row in rows)
    names = [row["name"] for row in rows]
    assert names == sorted(names)
    assert "cli-pool" in names


def test_inspect_shows_queues_workers_and_waiting_runs(served: Served) -> None:
    shown = _ok(served.baton("work-pool", "inspect", "cli-pool"))
    assert re.search(r"Type\s+process", shown)
    assert re.search(r"Default queue\s+default", shown)
    assert re.search(r"Scheduled runs\s+1$", shown, re.MULTILINE)
    lines = shown.splitlines()
    queues = [line.split()[0] for line in lines if line.startswith(("urgent ", "default "))]
    assert queues == ["urgent", "default"]  # by priority
    assert _row(shown, "urgent")[1:4] == ["1", "2", "no"]
    assert _row(shown, "cli-worker-1")[:2] == ["cli-worker-1", "ONLINE"]

    pool_id = served.api("GET", "/work_pools/cli-pool")["id"]
    detail = json.loads(_ok(served.baton("work-pool", "inspect", pool_id, "--json")))
    assert (detail["id"], detail["name"], detail["scheduled_runs"]) == (pool_id, "cli-pool", 1)
    assert [tuple(q) for q in detail["queues"]] == [QUEUE_KEYS, QUEUE_KEYS]
    assert [(q["name"], q["priority"]) for q in detail["queues"]] == [
        ("urgent", 1),
        ("default", 2),
    ]
    assert [tuple(w) for w in detail["workers"]] == [WORKER_KEYS]
    assert detail["workers"][0]["heartbeat_interval_seconds"] == 30

    # The deployment commands name the pool too.
    listed = _ok(served.baton("deployment", "ls", "--flow", "pooled"))
    assert _row(listed, "pooled/on-pool")[3] == "cli-pool"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ("work-pool", "inspect", "cli-pol"),
            "No work pool named 'cli-pol'. Did you mean 'cli-pool'?",
        ),
        (("work-pool", "pause", "nothing-like-it"), "`baton work-pool ls` lists them."),
        (("worker", "ls", "cli-poool"), "Did you mean 'cli-pool'?"),
    ],
)
def test_unknown_pools_are_refused_helpfully(
    served: Served, args: tuple[str, ...], says: str
) -> None:
    message = _refused(served.baton(*args))
    assert says in message
    assert len(message.strip().splitlines()) == 1


def test_pause_and_resume(served: Served) -> None:
    said = _ok(served.baton("work-pool", "pause", "cli-pool"))
    assert said.strip() == (
        "Paused work pool 'cli-pool': its workers get no runs until it is resumed."
    )
    pool = served.api("GET", "/work_pools/cli-pool")
    assert (pool["is_paused"], pool["status"]) == (True, "PAUSED")
    assert "is already paused" in _ok(served.baton("work-pool", "pause", "cli-pool"))
    assert _row(_ok(served.baton("work-pool", "ls")), "cli-pool")[2] == "paused"

    assert _ok(served.baton("work-pool", "resume", "cli-pool")).strip() == (
        "Resumed work pool 'cli-pool'."
    )
    assert served.api("GET", "/work_pools/cli-pool")["is_paused"] is False
    assert "is not paused" in _ok(served.baton("work-pool", "resume", "cli-pool"))


def test_worker_ls(served: Served) -> None:
    shown = _ok(served.baton("worker", "ls", "cli-pool"))
    assert shown.splitlines()[0].split() == [
        "Worker",
        "Status",
        "Last",
        "heartbeat",
        "Heartbeat",
        "every",
    ]
    assert _row(shown, "cli-worker-1")[1] == "ONLINE"
    assert _row(shown, "cli-worker-1")[3] == "30s"

    rows = json.loads(_ok(served.baton("worker", "ls", "cli-pool", "--json")))
    assert [tuple(row) for row in rows] == [WORKER_KEYS]
    assert (rows[0]["name"], rows[0]["status"]) == ("cli-worker-1", "ONLINE")

    served.api("POST", "/work_pools/", {"name": "cli-idle", "type": "process"})
    empty = served.baton("worker", "ls", "cli-idle")
    assert _ok(empty) == ""
    assert "No worker has polled work pool 'cli-idle'." in empty.stderr
