"""Ordinary Prefect flows, run by the real 3.9.1 client against Baton, leave the records the
reference server would (compat surface S1, S2, §4.4, §7)."""

from __future__ import annotations

import time
from typing import Any

from tests.compat.conftest import Prefect, reported


def task_runs_of(prefect: Prefect, flow_run_id: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = prefect.post(
        "/task_runs/filter",
        {
            "flow_runs": {"id": {"any_": [flow_run_id]}},
            "sort": "EXPECTED_START_TIME_ASC",
            "limit": 10_000,
        },
    )
    return runs


def logs_of(prefect: Prefect, flow_run_id: str) -> list[dict[str, Any]]:
    logs: list[dict[str, Any]] = prefect.post(
        "/logs/filter", {"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "sort": "TIMESTAMP_ASC"}
    )
    return logs


def test_concurrent_tasks_logs_parameters_result(prefect: Prefect) -> None:
    done = prefect.python("s1_tasks.py")
    assert done.returncode == 0, done.stderr
    report = reported(done)
    assert report["result"] == 20
    run_id = report["flow_run_id"]

    run = prefect.get(f"/flow_runs/{run_id}")
    assert (run["state_type"], run["run_count"]) == ("COMPLETED", 1)
    assert run["parameters"] == {"a": 3, "b": 4, "name": "cap"}
    assert run["labels"]["prefect.flow.id"] == run["flow_id"]
    assert prefect.get(f"/flows/{run['flow_id']}")["name"] == "my-flow"
    states = prefect.get(f"/flow_run_states/?flow_run_id={run_id}")
    assert [s["type"] for s in states] == ["PENDING", "RUNNING", "COMPLETED"]

    tasks = prefect.eventually(
        lambda: [t for t in task_runs_of(prefect, run_id) if t["state_type"] == "COMPLETED"]
    )
    assert len(tasks) == 3
    assert {t["task_key"].split("-")[0] for t in tasks} == {"add"}
    for task in tasks:
        history = prefect.get(f"/task_run_states/?task_run_id={task['id']}")
        assert [s["name"] for s in history] == ["Pending", "Running", "Completed"]
        assert task["run_count"] == 1
        assert task["start_time"] is not None
        assert task["end_time"] is not None

    messages = prefect.eventually(lambda: [log["message"] for log in logs_of(prefect, run_id)])
    assert "hello cap" in messages
    assert "total is 20" in messages  # log_prints
    assert any(m.startswith("Finished in state Completed") for m in messages)
    task_logs = [log for log in logs_of(prefect, run_id) if log["task_run_id"]]
    assert {log["message"] for log in task_logs} >= {"adding 3 and 4", "adding 4 and 3"}


def test_task_retry_subflow_and_failing_flow(prefect: Prefect) -> None:
    done = prefect.python("s2_failures.py")
    runs = reported(done)
    parent = prefect.get(f"/flow_runs/{runs['parent-flow']}")
    child = prefect.get(f"/flow_runs/{runs['child-flow']}")
    assert parent["state_type"] == "FAILED"
    assert "permanent failure" in parent["state"]["message"]
    assert child["state_type"] == "COMPLETED"
    assert child["parameters"] == {"x": 5}

    placeholder = prefect.get(f"/task_runs/{child['parent_task_run_id']}")
    assert placeholder["flow_run_id"] == parent["id"]
    assert (placeholder["name"], placeholder["dynamic_key"]) == ("child-flow-0", "0")
    assert placeholder["state_type"] == "COMPLETED"
    assert placeholder["state"]["state_details"]["child_flow_run_id"] == child["id"]

    def by_name() -> dict[str, dict[str, Any]]:
        found = {t["name"].rsplit("-", 1)[0]: t for t in task_runs_of(prefect, parent["id"])}
        ready = found.get("always_fails", {}).get("state_type") == "FAILED"
        return found if ready and found.get("flaky", {}).get("state_type") == "COMPLETED" else {}

    tasks = prefect.eventually(by_name)
    assert tasks, task_runs_of(prefect, parent["id"])
    flaky = tasks["flaky"]
    assert flaky["run_count"] == 2
    history = prefect.get(f"/task_run_states/?task_run_id={flaky['id']}")
    assert [s["name"] for s in history] == [
        "Pending",
        "Running",
        "AwaitingRetry",
        "Retrying",
        "Completed",
    ]
    assert history[2]["state_details"]["scheduled_time"] is not None
    assert tasks["always_fails"]["state"]["message"].endswith("permanent failure")


def test_flow_retry_is_server_side(prefect: Prefect) -> None:
    done = prefect.python("flow_retry.py")
    assert done.returncode == 0, done.stderr
    report = reported(done)
    assert report["result"] == "second attempt"
    run = prefect.get(f"/flow_runs/{report['flow_run_id']}")
    assert (run["state_type"], run["run_count"]) == ("COMPLETED", 2)
    assert run["empirical_policy"]["retry_type"] == "in_process"
    history = prefect.get(f"/flow_run_states/?flow_run_id={run['id']}")
    assert [s["name"] for s in history] == [
        "Pending",
        "Running",
        "AwaitingRetry",
        "Running",
        "Completed",
    ]


def test_a_thousand_tasks_are_all_recorded(prefect: Prefect) -> None:
    done = prefect.python("many_tasks.py", "1000", timeout=300)
    assert done.returncode == 0, done.stderr
    finished = time.monotonic()
    report = reported(done)
    run_id = report["flow_run_id"]

    def completed() -> int:
        count: int = prefect.post(
            "/task_runs/count",
            {
                "flow_runs": {"id": {"any_": [run_id]}},
                "task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
            },
        )
        return count if count == 1000 else 0

    assert prefect.eventually(completed, timeout=30) == 1000
    lag = time.monotonic() - finished
    print(f"1,000 task runs recorded {lag:.2f} s after the flow process exited")


def test_cli_flow_run_commands(prefect: Prefect) -> None:
    report = reported(prefect.python("s1_tasks.py"))
    run = prefect.get(f"/flow_runs/{report['flow_run_id']}")

    listed = prefect.cli("flow-run", "ls")
    assert listed.returncode == 0, listed.stderr
    assert run["name"] in listed.stdout
    inspected = prefect.cli("flow-run", "inspect", run["id"])
    assert inspected.returncode == 0, inspected.stderr
    assert run["id"] in inspected.stdout
    logs = prefect.cli("flow-run", "logs", run["id"])
    assert logs.returncode == 0, logs.stderr
    assert "hello cap" in logs.stdout
