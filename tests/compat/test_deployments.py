"""Deployments through the real client: `flow.serve` with a schedule, and the `prefect
deployment` CLI (surface S3, S5, §7.3)."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import zoneinfo
from typing import Any

from tests.compat.conftest import FLOWS, PREFECT_BIN, Prefect, reported


def _runs(prefect: Prefect, deployment_id: str) -> list[dict[str, Any]]:
    body = {"deployments": {"id": {"any_": [deployment_id]}}, "sort": "EXPECTED_START_TIME_ASC"}
    runs: list[dict[str, Any]] = prefect.post("/flow_runs/filter", body)
    return runs


def test_serve_runs_scheduled_runs_and_pauses_on_exit(prefect: Prefect) -> None:
    env = prefect.env()
    env["PREFECT_RUNNER_POLL_FREQUENCY"] = "1"
    served = subprocess.Popen(
        [str(PREFECT_BIN / "python"), str(FLOWS / "served.py"), "3"],
        env=env,
        cwd=prefect.home,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deployment = prefect.eventually(
            lambda: _get_or_none(prefect, "/deployments/name/served-flow/served-dep"), 60
        )
        assert deployment, "flow.serve never created its deployment"
        assert deployment["schedules"][0]["schedule"]["interval"] == 3.0
        assert deployment["parameters"] == {"n": 5}

        # The scheduler fills the horizon (100 runs of a 3 s interval) within seconds.
        filled = prefect.eventually(lambda: len(_runs(prefect, deployment["id"])) >= 100, 60)
        assert filled, "the scheduler did not create the runs"

        def completed() -> list[dict[str, Any]]:
            return [r for r in _runs(prefect, deployment["id"]) if r["state_type"] == "COMPLETED"]

        assert prefect.eventually(lambda: len(completed()) >= 2, 120), "no scheduled run ran"
        done = completed()
        run = done[0]
        assert run["parameters"] == {"n": 5}
        assert run["auto_scheduled"] is True
        assert "auto-scheduled" in run["tags"]
        assert "cap" in run["tags"]
        assert prefect.get(f"/deployments/{deployment['id']}")["status"] == "READY"

        def logged() -> bool:
            body = {"logs": {"flow_run_id": {"any_": [run["id"]]}}}
            return any(
                "served run with n=5" in x["message"] for x in prefect.post("/logs/filter", body)
            )

        assert prefect.eventually(logged, 30)  # logs arrive in batches
    finally:
        served.send_signal(signal.SIGTERM)
        output, _ = served.communicate(timeout=60)

    # On SIGTERM the runner pauses its deployment; its future runs are deleted.
    after = prefect.get(f"/deployments/{deployment['id']}")
    assert after["paused"] is True, output
    pending = [
        r
        for r in _runs(prefect, deployment["id"])
        if r["state_type"] == "SCHEDULED" and r["state_name"] == "Scheduled"
    ]
    assert len(pending) <= 1  # at most one that fell due in the last instant


def test_deployment_cli(prefect: Prefect) -> None:
    flow = prefect.post("/flows/", {"name": "cli-flow"})
    body = {
        "name": "nightly",
        "flow_id": flow["id"],
        "schedules": [{"schedule": {"cron": "0 9 * * *", "timezone": "America/New_York"}}],
        "parameters": {"x": 21},
        "entrypoint": "wflow.py:wf",
    }
    deployment = prefect.post("/deployments/", body)

    listed = prefect.cli("deployment", "ls")
    assert listed.returncode == 0, listed.stderr
    assert "cli-flow/nightly" in listed.stdout

    inspected = prefect.cli("deployment", "inspect", "cli-flow/nightly")
    assert inspected.returncode == 0, inspected.stderr
    assert deployment["id"] in inspected.stdout

    run = prefect.cli("deployment", "run", "cli-flow/nightly", "--start-in", "1 hour")
    assert run.returncode == 0, run.stdout + run.stderr
    manual = [r for r in _runs(prefect, deployment["id"]) if not r["auto_scheduled"]]
    assert len(manual) == 1
    assert manual[0]["parameters"] == {"x": 21}
    assert manual[0]["state_type"] == "SCHEDULED"

    missing = prefect.cli("deployment", "inspect", "cli-flow/nope")
    assert missing.returncode != 0


def _get_or_none(prefect: Prefect, path: str) -> Any:
    import httpx

    response = httpx.get(f"{prefect.api}{path}", timeout=30)
    return response.json() if response.status_code == 200 else None


def test_cron_schedule_in_new_york_time_and_cli_runs(prefect: Prefect) -> None:
    applied = prefect.python("cron_deployment.py")
    assert applied.returncode == 0, applied.stderr
    deployment_id = reported(applied)["deployment_id"]
    deployment = prefect.get(f"/deployments/{deployment_id}")
    assert deployment["schedules"][0]["schedule"]["cron"] == "30 9 * * 1-5"
    assert deployment["schedules"][0]["schedule"]["timezone"] == "America/New_York"
    assert deployment["enforce_parameter_schema"] is True

    # The server's scheduler makes the next runs: 09:30 New York time on weekdays.
    assert prefect.eventually(lambda: len(_runs(prefect, deployment_id)) >= 3, 60)
    new_york = zoneinfo.ZoneInfo("America/New_York")
    times = [
        dt.datetime.fromisoformat(r["expected_start_time"].replace("Z", "+00:00"))
        for r in _runs(prefect, deployment_id)
    ]
    now = dt.datetime.now(dt.UTC)
    expected, day = [], now.astimezone(new_york).date()
    while len(expected) < len(times):
        at = dt.datetime.combine(day, dt.time(9, 30), tzinfo=new_york)
        if day.weekday() < 5 and at >= now:
            expected.append(at)
        day += dt.timedelta(days=1)
    assert times == expected

    # `prefect deployment run --param`: parameters merged with the deployment's.
    started = prefect.cli(
        "deployment", "run", "cron-flow/ny-morning", "--param", "n=7", "--param", "label=v"
    )
    assert started.returncode == 0, started.stdout + started.stderr
    manual = [r for r in _runs(prefect, deployment_id) if not r["auto_scheduled"]]
    assert [r["parameters"] for r in manual] == [{"n": 7, "label": "v"}]

    # A parameter the flow's signature refuses is rejected, naming it.
    refused = prefect.cli("deployment", "run", "cron-flow/ny-morning", "--param", "n=seven")
    assert refused.returncode != 0
    assert "'n'" in refused.stdout + refused.stderr

    # Pausing clears the future scheduled runs; the manual one stays.
    prefect.patch(f"/deployments/{deployment_id}", {"paused": True})
    left = _runs(prefect, deployment_id)
    assert [r["id"] for r in left] == [r["id"] for r in manual]


def test_overdue_runs_are_marked_late(prefect: Prefect) -> None:
    flow = prefect.post("/flows/", {"name": "late-flow"})
    deployment = prefect.post("/deployments/", {"name": "d", "flow_id": flow["id"]})
    ago = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)).isoformat()
    run = prefect.post(
        f"/deployments/{deployment['id']}/create_flow_run",
        {"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": ago}}},
    )
    late = prefect.eventually(
        lambda: prefect.get(f"/flow_runs/{run['id']}")["state_name"] == "Late", 60
    )
    assert late, "the late-runs service did not mark the overdue run"
    shown = prefect.cli("flow-run", "inspect", run["id"])
    assert shown.returncode == 0, shown.stderr
    assert "Late" in shown.stdout
