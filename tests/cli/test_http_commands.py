"""`baton flow-run …`, `baton logs` and `baton version` as subprocesses, against a real
`baton server start` holding runs and logs that the real Prefect client recorded."""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from baton import PREFECT_SERVER_VERSION
from baton.cli.flow_runs import LIST_KEYS
from baton.cli.logs import LOG_KEYS
from baton.cli.version import VERSION_KEYS
from tests.support.postgres import free_port
from tests.support.server import ServerProcess, baton_env, baton_server, run_baton

ROOT = Path(__file__).resolve().parents[2]
PREFECT_PYTHON = ROOT / ".venv-prefect" / "bin" / "python"
FLOW_SCRIPT = Path(__file__).parent / "flows" / "greet_and_break.py"
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (\w+) +(\S+) \| (.*)$")

pytestmark = pytest.mark.compat


@dataclass
class Recorded:
    server: ServerProcess
    env: dict[str, str]  # for `baton` subprocesses pointed at the server
    completed: dict[str, Any]  # the flow runs, as the API returns them
    failed: dict[str, Any]

    def baton(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_baton(*args, env=self.env)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.server.api_url}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    if not PREFECT_PYTHON.exists():
        pytest.fail(".venv-prefect is missing: run `make prefect`")
    tmp = tmp_path_factory.mktemp("cli-http")
    with baton_server(baton_env(tmp / "server-home")) as server:
        done = _run_flows(server, tmp / "prefect-home")
        ids = json.loads(done.stdout.strip().splitlines()[-1])
        env = baton_env(tmp / "cli-home", PREFECT_API_URL=server.api_url)
        yield Recorded(
            server,
            env,
            httpx.get(f"{server.api_url}/flow_runs/{ids['completed']}").json(),
            httpx.get(f"{server.api_url}/flow_runs/{ids['failed']}").json(),
        )


def _run_flows(server: ServerProcess, home: Path) -> subprocess.CompletedProcess[str]:
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
    env.update(
        PREFECT_API_URL=server.api_url,
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_COLORS="false",
    )
    done = subprocess.run(
        [str(PREFECT_PYTHON), str(FLOW_SCRIPT)],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _lines(stdout: str) -> list[tuple[str, str, str]]:
    """(level, run name, message) of each log line that starts a record."""
    matches = (LINE.match(line) for line in stdout.splitlines())
    return [(m[1], m[2], m[3]) for m in matches if m]


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def _refused(done: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


# flow-run ls / inspect


def test_ls_shows_runs_newest_first_with_states(recorded: Recorded) -> None:
    rows = _ok(recorded.baton("flow-run", "ls")).splitlines()
    assert rows[0].split() == ["ID", "Name", "Flow", "State", "Start", "Duration"]
    failed = next(i for i, row in enumerate(rows) if recorded.failed["name"] in row)
    completed = next(i for i, row in enumerate(rows) if recorded.completed["name"] in row)
    assert failed < completed  # the failing flow ran second
    assert "cli-breaker" in rows[failed]
    assert "Failed" in rows[failed]
    assert "cli-greeter" in rows[completed]
    assert "Completed" in rows[completed]
    assert recorded.completed["id"] in rows[completed]


def test_ls_json_has_stable_keys(recorded: Recorded) -> None:
    rows = json.loads(_ok(recorded.baton("flow-run", "ls", "--json", "--limit", "2")))
    assert [tuple(row) for row in rows] == [LIST_KEYS, LIST_KEYS]
    by_name = {row["name"]: row for row in rows}
    greeter = by_name[recorded.completed["name"]]
    assert greeter["flow_name"] == "cli-greeter"
    assert (greeter["state_type"], greeter["state_name"]) == ("COMPLETED", "Completed")
    assert greeter["duration_seconds"] > 0
    assert by_name[recorded.failed["name"]]["state_type"] == "FAILED"


def test_ls_filters_by_state_and_flow(recorded: Recorded) -> None:
    def names(*args: str) -> set[str]:
        return {row["name"] for row in json.loads(_ok(recorded.baton("flow-run", "ls", *args)))}

    ok, bad = recorded.completed["name"], recorded.failed["name"]
    assert names("--json", "--state", "failed") == {bad}
    assert names("--json", "--state", "late") == set()  # a state name, matched as "Late"
    assert names("--json", "--state", "late", "--state", "COMPLETED") == {ok}  # either matches
    assert names("--json", "--flow", "cli-greeter") == {ok}

    done = recorded.baton("flow-run", "ls", "--state", "late")
    assert "No flow runs found." in _ok(done) + done.stderr
    assert "No flow is named 'no-such-flow'." in _refused(
        recorded.baton("flow-run", "ls", "--flow", "no-such-flow")
    )


def test_inspect_by_id_and_by_name(recorded: Recorded) -> None:
    run = recorded.completed
    shown = _ok(recorded.baton("flow-run", "inspect", run["id"]))
    assert run["name"] in shown
    assert "cli-greeter" in shown
    assert "Completed" in shown
    assert "shout-" in shown  # its task run

    detail = json.loads(_ok(recorded.baton("flow-run", "inspect", run["name"], "--json")))
    assert detail["id"] == run["id"]
    assert detail["flow_name"] == "cli-greeter"
    assert [task["state_type"] for task in detail["task_runs"]] == ["COMPLETED"]


# logs


def test_logs_show_a_runs_lines_in_order(recorded: Recorded) -> None:
    name = recorded.completed["name"]
    lines = _lines(_ok(recorded.baton("logs", "--flow-run", name)))
    assert {run for _, run, _ in lines} == {name}
    logged = [
        ("INFO", "first greeting line"),
        ("WARNING", "task says hello"),
        ("ERROR", "greeter error line"),
        ("INFO", "last greeting line"),
    ]
    assert [(level, text) for level, _, text in lines if (level, text) in logged] == logged


def test_logs_of_all_runs_newest_last(recorded: Recorded) -> None:
    lines = _lines(_ok(recorded.baton("logs")))
    runs = [run for _, run, _ in lines]
    assert runs[0] == recorded.completed["name"]
    assert runs[-1] == recorded.failed["name"]
    assert len(_lines(_ok(recorded.baton("logs", "--limit", "3")))) == 3


def test_logs_level_filter(recorded: Recorded) -> None:
    lines = _lines(_ok(recorded.baton("logs", "--level", "error")))
    assert {level for level, _, _ in lines} == {"ERROR"}
    assert ("ERROR", recorded.completed["name"], "greeter error line") in lines
    assert any(run == recorded.failed["name"] for _, run, _ in lines)
    assert _lines(_ok(recorded.baton("logs", "--level", "40"))) == lines


def test_logs_since(recorded: Recorded) -> None:
    assert _lines(_ok(recorded.baton("logs", "--since", "1h")))
    later = (dt.datetime.now() + dt.timedelta(hours=1)).isoformat(timespec="seconds")
    assert _ok(recorded.baton("logs", "--since", later)) == ""


def test_logs_of_a_flow(recorded: Recorded) -> None:
    lines = _lines(_ok(recorded.baton("logs", "--flow", "cli-breaker")))
    assert {run for _, run, _ in lines} == {recorded.failed["name"]}
    assert "about to break" in [text for _, _, text in lines]


def test_logs_json(recorded: Recorded) -> None:
    done = recorded.baton("logs", "--flow-run", recorded.completed["id"], "--json")
    records = json.loads(_ok(done))
    assert records
    assert all(tuple(record) == LOG_KEYS for record in records)
    assert [r["timestamp"] for r in records] == sorted(r["timestamp"] for r in records)
    warning = next(r for r in records if r["message"] == "task says hello")
    assert (warning["level"], warning["level_name"]) == (30, "WARNING")
    assert warning["flow_run_name"] == recorded.completed["name"]
    assert warning["task_run_id"] is not None


def test_logs_follow_prints_new_lines_until_interrupted(recorded: Recorded) -> None:
    run = recorded.completed
    proc = subprocess.Popen(
        [sys.executable, "-m", "baton", "logs", "--follow", "--flow-run", run["id"]],
        env=recorded.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in proc.stdout or ():
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        assert "first greeting line" in _next_line(lines, "last greeting line")
        now = dt.datetime.now(dt.UTC).isoformat()
        record = {"name": "test", "level": 20, "message": "followed!", "timestamp": now}
        recorded.api("POST", "/logs/", [{**record, "flow_run_id": run["id"], "task_run_id": None}])
        assert _next_line(lines, "followed!").endswith(f"INFO     {run['name']} | followed!")
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def _next_line(lines: queue.Queue[str], wanted: str, timeout: float = 15) -> str:
    """The first line containing `wanted`; the lines seen before it, joined, on the way."""
    seen: list[str] = []
    deadline = dt.datetime.now() + dt.timedelta(seconds=timeout)
    while wanted not in (seen[-1] if seen else ""):
        remaining = (deadline - dt.datetime.now()).total_seconds()
        seen.append(lines.get(timeout=max(remaining, 0.01)).rstrip("\n"))
    return "\n".join(seen)


# cancel / delete


def test_cancel_refuses_a_finished_run(recorded: Recorded) -> None:
    message = _refused(recorded.baton("flow-run", "cancel", recorded.completed["name"]))
    assert "Cannot cancel" in message
    assert "already finished (Completed)" in message
    assert recorded.api("GET", f"/flow_runs/{recorded.completed['id']}")["state_type"] == (
        "COMPLETED"
    )


def test_cancel_then_delete_a_scheduled_run(recorded: Recorded) -> None:
    run = recorded.api(
        "POST",
        "/flow_runs/",
        {
            "flow_id": recorded.completed["flow_id"],
            "name": "cli-scheduled-run",
            "state": {"type": "SCHEDULED", "name": "Scheduled"},
        },
    )
    assert "Cancelled flow run 'cli-scheduled-run'" in _ok(
        recorded.baton("flow-run", "cancel", "cli-scheduled-run")
    )
    assert recorded.api("GET", f"/flow_runs/{run['id']}")["state_type"] == "CANCELLED"

    unconfirmed = subprocess.run(
        [sys.executable, "-m", "baton", "flow-run", "delete", run["id"]],
        env=recorded.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "pass --yes" in _refused(unconfirmed)
    assert "Deleted flow run 'cli-scheduled-run'" in _ok(
        recorded.baton("flow-run", "delete", run["id"], "--yes")
    )
    gone = _refused(recorded.baton("flow-run", "inspect", run["id"]))
    assert f"No flow run has the id {run['id']}." in gone


# version and failures


def test_version_with_the_server_up_and_down(recorded: Recorded) -> None:
    info = json.loads(_ok(recorded.baton("version", "--json")))
    assert tuple(info) == VERSION_KEYS
    assert info["server_version"] == PREFECT_SERVER_VERSION
    assert info["api_url"] == recorded.server.api_url
    assert "Baton" in _ok(recorded.baton("version"))

    down = {**recorded.env, "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api"}
    shown = _ok(run_baton("version", env=down))
    assert re.search(r"Server\s+unreachable", shown)
    info = json.loads(_ok(run_baton("version", "--json", env=down)))
    assert (info["server_version"], info["server_error"]) == (None, "unreachable")


@pytest.mark.parametrize("args", [("flow-run", "ls"), ("logs", "--flow-run", "some-run")])
def test_unreachable_server_is_one_line(recorded: Recorded, args: tuple[str, ...]) -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    message = _refused(run_baton(*args, env={**recorded.env, "PREFECT_API_URL": url}))
    assert message.strip() == (
        f"Error: Cannot reach the Baton server at {url} (set PREFECT_API_URL to point elsewhere)."
    )


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("flow-run", "inspect", "01a21b6a-2039-7bef"), 1, "is not a valid flow-run id"),
        (("flow-run", "cancel", "no-such-run"), 1, "No flow run is named 'no-such-run'"),
        (("logs", "--flow-run", "no-such-run"), 1, "No flow run is named 'no-such-run'"),
        (("logs", "--since", "yesterday"), 2, "is neither a span"),
        (("logs", "--level", "loud"), 2, "is not a level"),
        (("logs", "--level", "99999"), 1, "less than or equal to 32767"),
        (("logs", "--flow", "a", "--flow-run", "b"), 2, "not both"),
        (("flow-run", "ls", "--limit", "0"), 2, "--limit"),
    ],
)
def test_bad_input_is_refused_plainly(
    recorded: Recorded, args: tuple[str, ...], code: int, says: str
) -> None:
    assert says in _refused(recorded.baton(*args), code)
