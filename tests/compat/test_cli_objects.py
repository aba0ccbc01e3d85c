"""Artifacts and variables through the real client and the real `prefect` CLI (surface S5)."""

from __future__ import annotations

import json

from tests.compat.conftest import Prefect, reported


def test_artifacts_from_a_flow_and_the_cli(prefect: Prefect) -> None:
    done = prefect.python("artifacts.py")
    assert done.returncode == 0, done.stderr
    run_id = reported(done)["flow_run_id"]

    artifacts = prefect.post("/artifacts/filter", {"flow_runs": {"id": {"any_": [run_id]}}})
    by_key = {a["key"]: a for a in artifacts}
    assert set(by_key) == {"flow-report", "task-report"}
    assert by_key["flow-report"]["type"] == "markdown"
    assert by_key["flow-report"]["task_run_id"] is None
    assert by_key["flow-report"]["description"] == "The flow's report"
    assert by_key["task-report"]["task_run_id"] is not None
    assert by_key["task-report"]["data"] == "# Task\n\n*done*"

    listed = prefect.cli("artifact", "ls")
    assert listed.returncode == 0, listed.stderr
    assert "flow-report" in listed.stdout
    assert "task-report" in listed.stdout
    inspected = prefect.cli("artifact", "inspect", "flow-report")
    assert inspected.returncode == 0, inspected.stderr
    assert "All good." in inspected.stdout


def test_variables_through_the_cli(prefect: Prefect) -> None:
    created = prefect.cli("variable", "set", "myvar", "hello", "--tag", "cap")
    assert created.returncode == 0, created.stderr
    got = prefect.cli("variable", "get", "myvar")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == "hello"  # the CLI prints the value as JSON

    refused = prefect.cli("variable", "set", "myvar", '{"a": 1}')
    assert refused.returncode != 0  # exists: the CLI wants --overwrite
    overwritten = prefect.cli("variable", "set", "myvar", '{"a": 1}', "--overwrite")
    assert overwritten.returncode == 0, overwritten.stderr
    assert json.loads(prefect.cli("variable", "get", "myvar").stdout) == {"a": 1}

    assert prefect.cli("variable", "set", "count", "5").returncode == 0
    listed = prefect.cli("variable", "ls")
    assert listed.returncode == 0, listed.stderr
    assert "myvar" in listed.stdout
    assert "count" in listed.stdout
    stored = prefect.get("/variables/name/count")
    assert stored["value"] == 5
