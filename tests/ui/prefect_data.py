"""The browser tests' data, made by the real Prefect 3.9.1 client (.venv-prefect) against a
real `baton server start`: `prefect work-pool create --type process`, then the flows in
tests/ui/flows/ui_data.py (tasks, printed and logged lines, a subflow, artifacts, a failing
flow, a deployment from `flow.to_deployment` with a cron schedule and the flow's parameter
schema, a run of it, a worker heartbeat, a variable, a global concurrency limit). The
runner (`Prefect`) and the report reader are the compatibility tests' own."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.compat.conftest import PREFECT_BIN, Prefect, reported

FLOWS = Path(__file__).parent / "flows"
POOL = "ui-pool"
HOSTILE = "<script>alert('pwned')</script>"


@dataclass
class Made:
    flow_id: str  # etl-flow
    deployment_id: str  # etl-flow/nightly, cron 0 9 * * * America/New_York, pool ui-pool
    completed_id: str  # nightly-load: tasks, logs, a subflow, two artifacts
    failed_id: str  # failing-run
    hostile_id: str  # named like a script tag
    subflow_id: str  # child-subflow
    cancel_id: str  # cancel-me-please: a scheduled run of the deployment
    artifact_id: str  # the markdown "report"


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"{done.args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def make_data(prefect: Prefect) -> Made:
    if not (PREFECT_BIN / "prefect").exists():
        raise AssertionError(".venv-prefect is missing: run `make prefect`")
    ok(prefect.cli("work-pool", "create", POOL, "--type", "process"))
    # Run from Prefect's home, so the deployment's entrypoint reads "ui_data.py:etl".
    script = Path(shutil.copy(FLOWS / "ui_data.py", prefect.home))
    ids = reported(ok(prefect.python(str(script))))
    [subflow] = prefect.post(
        "/flow_runs/filter", {"flow_runs": {"name": {"any_": ["child-subflow"]}}}
    )
    [report] = prefect.post("/artifacts/filter", {"artifacts": {"key": {"any_": ["report"]}}})
    return Made(
        flow_id=prefect.get("/flows/name/etl-flow")["id"],
        deployment_id=ids["deployment_id"],
        completed_id=ids["completed_id"],
        failed_id=ids["failed_id"],
        hostile_id=ids["hostile_id"],
        subflow_id=subflow["id"],
        cancel_id=ids["cancel_id"],
        artifact_id=report["id"],
    )


@dataclass
class LiveFlow:
    """tests/ui/flows/live.py running in the background."""

    proc: subprocess.Popen[bytes]
    output: Path  # its console: a pipe nobody reads would fill up and stop the flow

    def finish(self, timeout: float = 60) -> None:
        """Wait for the flow to end (killed after `timeout`); it must end well."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        assert self.proc.returncode == 0, self.output.read_text()[-3000:]


@contextlib.contextmanager
def live_flow(prefect: Prefect, name: str, *args: str) -> Iterator[LiveFlow]:
    """A run named `name` that stays running (see tests/ui/flows/live.py for `args`); killed
    on the way out if it is still running."""
    output = prefect.home / f"{name}.out"
    with output.open("wb") as out:
        proc = subprocess.Popen(
            [str(PREFECT_BIN / "python"), str(FLOWS / "live.py"), name, *args],
            env=prefect.env(),
            cwd=prefect.home,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield LiveFlow(proc, output)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def run_named(prefect: Prefect, name: str, timeout: float = 60) -> dict[str, Any]:
    """The flow run called `name`, once it is running."""
    body = {"flow_runs": {"name": {"any_": [name]}, "state": {"type": {"any_": ["RUNNING"]}}}}
    found = prefect.eventually(lambda: prefect.post("/flow_runs/filter", body), timeout)
    assert found, f"no running flow run named {name} after {timeout} s"
    run: dict[str, Any] = found[0]
    return run
