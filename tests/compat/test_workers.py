"""The real `prefect worker start` against Baton: pools from the CLI, a deployment from
source, runs claimed and executed, and cancellation end to end (surface S4)."""

from __future__ import annotations

import subprocess
from typing import Any

from tests.compat.conftest import PREFECT_BIN, Prefect, reported


def _states(prefect: Prefect, run_id: str) -> list[str]:
    history = prefect.get(f"/flow_run_states/?flow_run_id={run_id}")
    return [f"{s['type']}/{s['name']}" for s in history]


def _deploy(prefect: Prefect, entrypoint: str, name: str) -> str:
    done = prefect.python("deploy_to_pool.py", "p1", entrypoint, name)
    assert done.returncode == 0, done.stdout + done.stderr
    deployment_id: str = reported(done)["deployment_id"]
    return deployment_id


def _run_id(output: str, prefect: Prefect, deployment_id: str) -> str:
    runs: list[dict[str, Any]] = prefect.post(
        "/flow_runs/filter",
        {"deployments": {"id": {"any_": [deployment_id]}}, "sort": "ID_DESC"},  # newest first
    )
    assert runs, output
    run_id: str = runs[0]["id"]
    return run_id


def test_a_worker_runs_a_deployment_from_source(prefect: Prefect) -> None:
    created = prefect.cli("work-pool", "create", "p1", "--type", "process")
    assert created.returncode == 0, created.stdout + created.stderr
    pool = prefect.get("/work_pools/p1")
    assert pool["type"] == "process"
    assert pool["status"] == "NOT_READY"

    deployment_id = _deploy(prefect, "wflow.py:wf", "d1")
    deployment = prefect.get(f"/deployments/{deployment_id}")
    assert deployment["work_pool_name"] == "p1"
    assert deployment["work_queue_name"] == "default"
    assert deployment["pull_steps"]

    started = prefect.cli("deployment", "run", "wf/d1")
    assert started.returncode == 0, started.stdout + started.stderr
    run_id = _run_id(started.stdout, prefect, deployment_id)

    worker = prefect.cli("worker", "start", "--pool", "p1", "--run-once", timeout=180)
    assert worker.returncode == 0, worker.stdout + worker.stderr

    run = prefect.get(f"/flow_runs/{run_id}")
    assert run["state_type"] == "COMPLETED", _states(prefect, run_id)
    assert run["parameters"] == {"x": 21}
    assert run["infrastructure_pid"]
    assert run["labels"]["prefect.work-pool.name"] == "p1"
    assert run["labels"]["prefect.worker.type"] == "process"
    assert run["labels"]["prefect.worker.name"]
    states = _states(prefect, run_id)
    assert states[0] == "SCHEDULED/Scheduled"
    assert "PENDING/Submitting" in states
    assert states[-2:] == ["RUNNING/Running", "COMPLETED/Completed"]
    logs = prefect.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}})
    assert any("worker flow computed 42" in line["message"] for line in logs)
    task_runs = prefect.eventually(
        lambda: prefect.post("/task_runs/filter", {"flow_runs": {"id": {"any_": [run_id]}}})
    )
    assert [t["state_type"] for t in task_runs] == ["COMPLETED"]

    workers = prefect.post("/work_pools/p1/workers/filter", {})
    assert len(workers) == 1
    listed = prefect.cli("work-pool", "inspect", "p1")
    assert listed.returncode == 0, listed.stderr
    assert "p1" in listed.stdout
    paused = prefect.cli("work-pool", "pause", "p1")
    assert paused.returncode == 0, paused.stderr
    assert prefect.get("/work_pools/p1")["status"] == "PAUSED"


def test_cancelling_runs_through_a_worker(prefect: Prefect) -> None:
    assert prefect.cli("work-pool", "create", "p1", "--type", "process").returncode == 0
    deployment_id = _deploy(prefect, "wflow.py:slow", "slow-dep")

    # A scheduled run (an hour ahead) has nothing to stop: straight to CANCELLED.
    later = prefect.cli("deployment", "run", "slow/slow-dep", "--start-in", "1 hour")
    assert later.returncode == 0, later.stdout + later.stderr
    scheduled = _run_id(later.stdout, prefect, deployment_id)
    cancelled = prefect.cli("flow-run", "cancel", scheduled)
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    assert prefect.get(f"/flow_runs/{scheduled}")["state_type"] == "CANCELLED"

    # A running run: CANCELLING, the worker kills the process, CANCELLED.
    env = prefect.env()
    env["PREFECT_WORKER_QUERY_SECONDS"] = "1"
    worker = subprocess.Popen(
        [str(PREFECT_BIN / "prefect"), "worker", "start", "--pool", "p1"],
        env=env,
        cwd=prefect.home,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        now = prefect.cli("deployment", "run", "slow/slow-dep")
        assert now.returncode == 0, now.stdout + now.stderr
        running = _run_id(now.stdout, prefect, deployment_id)
        if not prefect.eventually(
            lambda: prefect.get(f"/flow_runs/{running}")["state_type"] == "RUNNING", 180
        ):
            worker.terminate()
            raise AssertionError(f"{_states(prefect, running)}\n{worker.communicate()[0][-5000:]}")
        stop = prefect.cli("flow-run", "cancel", running)
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert prefect.eventually(
            lambda: prefect.get(f"/flow_runs/{running}")["state_type"] == "CANCELLED", 120
        ), _states(prefect, running)
        assert "CANCELLING/Cancelling" in _states(prefect, running)
        assert prefect.get("/work_pools/p1")["status"] == "READY"  # its worker is online
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=60)
    assert "Traceback" not in output or "KeyboardInterrupt" in output, output[-3000:]
