"""`baton deployment …` as subprocesses against a real `baton server start` (its scheduler
running), with flows and deployments created over HTTP as the Prefect client creates them."""

from __future__ import annotations

import datetime as dt
import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import typer

from baton.cli.deployments import (
    BACKFILL_KEYS,
    CREATED_KEYS,
    LIST_KEYS,
    RUN_KEYS,
    SCHEDULE_KEYS,
)
from baton.cli.parsing import parse_span, parse_time, run_parameters
from tests.support.postgres import free_port
from tests.support.server import ServerProcess, baton_env, baton_server, run_baton

PARAMETER_SCHEMA = {
    "type": "object",
    "title": "Parameters",
    "properties": {"n": {"type": "integer", "title": "n", "position": 0}},
    "required": ["n"],
    "definitions": {},
}
NEW_YORK = ZoneInfo("America/New_York")
CREATED = re.compile(r"Created flow run '([\w-]+)' \(([0-9a-f-]{36})\)")


def interval(seconds: float, anchor: str = "2020-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "schedule": {"interval": seconds, "anchor_date": anchor, "timezone": "UTC"},
        "active": True,
        "max_scheduled_runs": None,
        "parameters": {},
        "slug": None,
    }


def deployment_body(flow_id: str, name: str, **extra: Any) -> dict[str, Any]:
    """What `flow.serve(name=…)` sends, minus schedules and parameters unless given."""
    return {
        "name": name,
        "flow_id": flow_id,
        "paused": False,
        "schedules": [],
        "concurrency_limit": None,
        "concurrency_options": None,
        "enforce_parameter_schema": False,
        "parameter_openapi_schema": {"type": "object", "properties": {}},
        "parameters": {},
        "tags": [],
        "labels": {},
        "work_queue_name": None,
        "storage_document_id": None,
        "infrastructure_document_id": None,
        "description": None,
        "path": ".",
        "entrypoint": "flows.py:etl",
        "job_variables": {},
        "version": "abc123",
        "version_info": {"type": "prefect:simple", "version": "abc123"},
        **extra,
    }


@dataclass
class Served:
    server: ServerProcess
    env: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)  # "flow/deployment" -> id

    def baton(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_baton(*args, env=self.env)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.server.api_url}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def scheduled(self, name: str) -> int:
        body = {
            "deployments": {"id": {"any_": [self.ids[name]]}},
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
        }
        count: int = self.api("POST", "/flow_runs/count", body)
        return count

    def wait_scheduled(self, name: str, timeout: float = 20) -> int:
        """The deployment's scheduled runs, once the scheduler has created some."""
        deadline = time.monotonic() + timeout
        while (count := self.scheduled(name)) == 0:
            assert time.monotonic() < deadline, f"the scheduler made no runs of {name}"
            time.sleep(0.2)
        return count


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("cli-deployments")
    with baton_server(baton_env(tmp / "server-home")) as server:
        served = Served(server, baton_env(tmp / "cli-home", PREFECT_API_URL=server.api_url))
        etl = served.api("POST", "/flows/", {"name": "cli-etl", "tags": [], "labels": {}})["id"]
        report = served.api("POST", "/flows/", {"name": "cli-report", "tags": [], "labels": {}})
        half_off = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=150)).isoformat()
        bodies = [
            deployment_body(
                etl,
                "hourly",
                schedules=[interval(3600.0)],
                enforce_parameter_schema=True,
                parameter_openapi_schema=PARAMETER_SCHEMA,
            ),
            deployment_body(
                etl,
                "nightly",
                schedules=[
                    {
                        **interval(0),
                        "schedule": {
                            "cron": "0 9 * * *",
                            "timezone": "America/New_York",
                            "day_or": True,
                        },
                    }
                ],
            ),
            deployment_body(etl, "manual"),
            deployment_body(report["id"], "manual"),
            # Its runs fall half an interval from now, not on a wall-clock five minutes:
            # none falls due while this module runs, so counts of its future runs hold.
            deployment_body(report["id"], "ticker", schedules=[interval(300.0, half_off)]),
        ]
        for body in bodies:
            created = served.api("POST", "/deployments/", body)
            flow = "cli-etl" if body["flow_id"] == etl else "cli-report"
            served.ids[f"{flow}/{body['name']}"] = created["id"]
        yield served


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def _refused(done: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def _row(stdout: str, name: str) -> list[str]:
    """The cells of the table row naming `name` (cells are 2+ spaces apart)."""
    line = next(line for line in stdout.splitlines() if line.startswith(f"{name} "))
    return re.split(r"\s{2,}", line.strip())


# ls


def test_ls_shows_schedules_in_words(served: Served) -> None:
    shown = _ok(served.baton("deployment", "ls"))
    assert shown.splitlines()[0].split() == [
        "Deployment",
        "Schedule",
        "Paused",
        "Work",
        "pool",
        "Status",
    ]
    assert _row(shown, "cli-etl/hourly") == ["cli-etl/hourly", "every hour", "no", "-", "NOT_READY"]
    assert _row(shown, "cli-etl/nightly")[1] == "every day at 09:00 (America/New_York)"
    assert _row(shown, "cli-etl/manual")[1] == "-"
    names = [line.split()[0] for line in shown.splitlines()[2:]]
    assert names == sorted(names)  # by flow, then name


def test_ls_json_has_stable_keys(served: Served) -> None:
    rows = json.loads(_ok(served.baton("deployment", "ls", "--json", "--flow", "cli-report")))
    assert [(row["flow_name"], row["name"]) for row in rows] == [
        ("cli-report", "manual"),
        ("cli-report", "ticker"),
    ]
    assert all(tuple(row) == LIST_KEYS for row in rows)
    ticker = rows[1]
    assert ticker["id"] == served.ids["cli-report/ticker"]
    assert [tuple(s) for s in ticker["schedules"]] == [SCHEDULE_KEYS]
    assert ticker["schedules"][0]["description"] == "every 5 minutes"
    assert ticker["schedules"][0]["schedule"]["interval"] == 300.0

    assert len(json.loads(_ok(served.baton("deployment", "ls", "--json", "--limit", "2")))) == 2
    assert "No flow is named 'no-such-flow'." in _refused(
        served.baton("deployment", "ls", "--flow", "no-such-flow")
    )


# inspect


def test_inspect_by_name_id_and_bare_name(served: Served) -> None:
    deployment_id = served.ids["cli-etl/hourly"]
    served.wait_scheduled("cli-etl/hourly")
    run = served.api(
        "POST", f"/deployments/{deployment_id}/create_flow_run", {"parameters": {"n": 3}}
    )
    served.api("POST", f"/flow_runs/{run['id']}/set_state", {"state": {"type": "PENDING"}})

    shown = _ok(served.baton("deployment", "inspect", "cli-etl/hourly"))
    assert re.search(rf"ID\s+{deployment_id}", shown)
    assert re.search(r"Schedules\s+every hour", shown)
    next_runs = shown[shown.index("Next runs") : shown.index("Recent runs")]
    assert "Scheduled" in next_runs
    recent = shown[shown.index("Recent runs") :]
    assert run["name"] in recent
    assert "Pending" in recent

    detail = json.loads(_ok(served.baton("deployment", "inspect", deployment_id, "--json")))
    assert (detail["id"], detail["flow_name"], detail["name"]) == (
        deployment_id,
        "cli-etl",
        "hourly",
    )
    assert detail["schedules"][0]["description"] == "every hour"
    assert 1 <= len(detail["next_runs"]) <= 5
    assert all(tuple(r) == RUN_KEYS for r in detail["next_runs"] + detail["recent_runs"])
    assert {r["state_type"] for r in detail["next_runs"]} == {"SCHEDULED"}
    starts = [r["expected_start_time"] for r in detail["next_runs"]]
    assert starts == sorted(starts)
    assert run["id"] in [r["id"] for r in detail["recent_runs"]]

    bare = json.loads(_ok(served.baton("deployment", "inspect", "hourly", "--json")))
    assert bare["id"] == deployment_id


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("cli-etl/hourli", "No deployment named 'cli-etl/hourli'. Did you mean 'cli-etl/hourly'?"),
        ("manul", "Did you mean 'cli-etl/manual' or 'cli-report/manual'?"),
        ("zzz/qqq", "No deployment named 'zzz/qqq'. `baton deployment ls` lists them."),
        (
            "00000000-0000-4000-8000-000000000000",
            "No deployment has the id 00000000-0000-4000-8000-000000000000.",
        ),
        ("manual", "Several flows have a deployment named 'manual'"),
    ],
)
def test_unknown_or_ambiguous_names_are_refused_helpfully(
    served: Served, ref: str, says: str
) -> None:
    message = _refused(served.baton("deployment", "inspect", ref))
    assert says in message
    assert len(message.strip().splitlines()) == 1


# run


def test_run_with_parameters_parsed_as_json_or_text(served: Served) -> None:
    done = served.baton(
        "deployment",
        "run",
        "cli-etl/manual",
        "--params",
        '{"n": 1, "extra": {"a": 1}}',
        "--param",
        "n=5",
        "--param",
        "name=Ada Lovelace",
        "--param",
        "xs=[1, 2]",
        "--param",
        "on=true",
        "--param",
        'quoted="5"',
        "--param",
        "eq=a=b",
    )
    name, run_id = CREATED.match(_ok(done)).groups()  # type: ignore[union-attr]
    assert "of cli-etl/manual, scheduled for now." in done.stdout
    run = served.api("GET", f"/flow_runs/{run_id}")
    assert run["name"] == name
    assert run["deployment_id"] == served.ids["cli-etl/manual"]
    assert run["parameters"] == {
        "n": 5,
        "extra": {"a": 1},
        "name": "Ada Lovelace",
        "xs": [1, 2],
        "on": True,
        "quoted": "5",
        "eq": "a=b",
    }


def test_run_json_by_id(served: Served) -> None:
    deployment_id = served.ids["cli-etl/hourly"]
    done = served.baton("deployment", "run", deployment_id, "--param", "n=7", "--json")
    created = json.loads(_ok(done))
    assert tuple(created) == CREATED_KEYS
    assert created["deployment_id"] == deployment_id
    assert (created["state_type"], created["parameters"]) == ("SCHEDULED", {"n": 7})


def test_a_parameter_the_schema_refuses_is_one_line(served: Served) -> None:
    message = _refused(served.baton("deployment", "run", "cli-etl/hourly", "--param", "n=abc"))
    assert message.startswith("Error: Could not create flow runs:")
    assert "Parameter 'n' is invalid: 'abc' is not of type 'integer'" in message
    assert len(message.strip().splitlines()) == 1
    missing = _refused(served.baton("deployment", "run", "cli-etl/hourly"))
    assert "Parameter 'n' is invalid: 'n' is a required property" in missing


def test_start_in_and_start_at(served: Served) -> None:
    before = dt.datetime.now(dt.UTC)
    later = json.loads(
        _ok(served.baton("deployment", "run", "cli-etl/manual", "--start-in", "10m", "--json"))
    )
    expected = dt.datetime.fromisoformat(later["expected_start_time"])
    assert dt.timedelta(minutes=10) <= expected - before <= dt.timedelta(minutes=11)
    assert later["state_type"] == "SCHEDULED"

    shown = _ok(
        served.baton(
            "deployment", "run", "cli-etl/manual", "--start-at", "2030-01-02T03:04:05+00:00"
        )
    )
    run = served.api("GET", f"/flow_runs/{CREATED.match(shown).group(2)}")  # type: ignore[union-attr]
    assert dt.datetime.fromisoformat(run["expected_start_time"]) == dt.datetime(
        2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC
    )
    assert "scheduled for now" not in shown


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("run", "cli-etl/manual", "--param", "oops"), "--param: 'oops' is not KEY=VALUE"),
        (("run", "cli-etl/manual", "--params", "[1, 2]"), "--params: must be a JSON object"),
        (("run", "cli-etl/manual", "--start-in", "1m", "--start-at", "2030-01-01"), "not both"),
        (("backfill", "cli-etl/hourly", "--start", "1d", "--end", "2d"), "must be before --end"),
    ],
)
def test_bad_command_lines_exit_2(served: Served, args: tuple[str, ...], says: str) -> None:
    assert says in _refused(served.baton("deployment", *args), 2)


@pytest.mark.parametrize(
    ("pairs", "params", "says"),
    [
        (["=5"], None, "'=5' is not KEY=VALUE"),
        (["n"], None, "'n' is not KEY=VALUE"),
        ([], "{nope", "not JSON"),
        ([], '"text"', "must be a JSON object"),
    ],
)
def test_parameter_parsing_refusals(pairs: list[str], params: str | None, says: str) -> None:
    with pytest.raises(typer.BadParameter, match=re.escape(says)):
        run_parameters(pairs, params)


def test_spans_and_times() -> None:
    assert parse_span("10m") == dt.timedelta(minutes=10)
    assert parse_span("1h30m") == dt.timedelta(minutes=90)
    assert parse_span(" 2D ") == dt.timedelta(days=2)
    assert parse_time("2030-01-02T03:04:05+01:00") == dt.datetime(
        2030, 1, 2, 2, 4, 5, tzinfo=dt.UTC
    )
    assert parse_time("2030-01-02T03:04").tzinfo is not None  # local time
    for bad in ("soon", "", "10", "1x"):
        with pytest.raises(ValueError, match="is not a span"):
            parse_span(bad)
    with pytest.raises(ValueError, match="is not an ISO 8601 time"):
        parse_time("tomorrow")


# watch


class Watch:
    """`deployment run --watch` in the background, its stdout and stderr read line by line."""

    def __init__(self, served: Served, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "baton", "deployment", "run", *args, "--watch"],
            env=served.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines = {"out": queue.Queue[str](), "err": queue.Queue[str]()}
        self.seen: dict[str, list[str]] = {"out": [], "err": []}
        self.readers = [
            threading.Thread(target=self._read, args=(stream, key), daemon=True)
            for stream, key in ((self.proc.stdout, "out"), (self.proc.stderr, "err"))
        ]
        for reader in self.readers:
            reader.start()

    def _read(self, stream: Any, key: str) -> None:
        for line in stream:
            self.lines[key].put(line.rstrip("\n"))

    def wait_for(self, pattern: str, stream: str = "out", timeout: float = 15) -> re.Match[str]:
        """The first new line of `stream` matching `pattern`."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(deadline - time.monotonic(), 0.01)
            try:
                line = self.lines[stream].get(timeout=remaining)
            except queue.Empty:
                seen = "\n".join(self.seen[stream])
                raise AssertionError(f"no line matching {pattern!r} after:\n{seen}") from None
            self.seen[stream].append(line)
            if found := re.search(pattern, line):
                return found

    def finish(self, timeout: float = 20) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) once the command has exited."""
        code = self.proc.wait(timeout=timeout)
        self._close()
        for key, lines in self.lines.items():
            while not lines.empty():
                self.seen[key].append(lines.get())
        return code, "\n".join(self.seen["out"]), "\n".join(self.seen["err"])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self) -> None:
        for reader in self.readers:
            reader.join(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def watch(served: Served) -> Iterator[list[Watch]]:
    started: list[Watch] = []
    yield started
    for one in started:
        one.stop()


def _drive(served: Served, run_id: str, state: dict[str, Any]) -> None:
    result = served.api("POST", f"/flow_runs/{run_id}/set_state", {"state": state})
    assert result["status"] == "ACCEPT", result


def test_watch_follows_a_run_to_completion(served: Served, watch: list[Watch]) -> None:
    watching = Watch(served, "cli-etl/manual")
    watch.append(watching)
    name, run_id = watching.wait_for(CREATED.pattern).groups()
    watching.wait_for(rf"STATE +{name} \| Scheduled$")
    _drive(served, run_id, {"type": "PENDING"})
    watching.wait_for(r"\| Pending$")
    _drive(served, run_id, {"type": "RUNNING"})
    now = dt.datetime.now(dt.UTC).isoformat()
    log = {"name": "flow", "level": 20, "message": "working on it", "timestamp": now}
    served.api("POST", "/logs/", [{**log, "flow_run_id": run_id, "task_run_id": None}])
    watching.wait_for(rf"INFO +{name} \| working on it$")
    _drive(served, run_id, {"type": "COMPLETED"})

    code, shown, err = watching.finish()
    assert code == 0, shown + err
    assert "Traceback" not in err
    assert "Ctrl-C stops watching" in err
    assert re.findall(rf"STATE +{name} \| (\w+)", shown) == [
        "Scheduled",
        "Pending",
        "Running",
        "Completed",
    ]
    lines = shown.splitlines()
    logged = next(i for i, line in enumerate(lines) if line.endswith("working on it"))
    assert lines[logged - 1].endswith("| Running")
    assert lines[logged + 1].endswith("| Completed")
    assert lines[-1] == f"Flow run '{name}' completed."


def test_watch_exits_1_when_the_run_fails(served: Served, watch: list[Watch]) -> None:
    watching = Watch(served, "cli-etl/manual", "--json")
    watch.append(watching)
    # With --json, stdout holds the finished run alone; the rest goes to stderr.
    name, run_id = watching.wait_for(CREATED.pattern, "err").groups()
    watching.wait_for(r"\| Scheduled$", "err")
    _drive(served, run_id, {"type": "PENDING"})
    _drive(served, run_id, {"type": "RUNNING"})
    _drive(served, run_id, {"type": "FAILED", "message": "boom"})

    code, shown, err = watching.finish()
    assert code == 1, shown + err
    assert "Traceback" not in err
    final = json.loads(shown)
    assert tuple(final) == CREATED_KEYS
    assert (final["id"], final["name"], final["state_type"]) == (run_id, name, "FAILED")
    assert re.search(rf"STATE +{name} \| Failed  boom$", err, re.MULTILINE)
    assert err.splitlines()[-1] == f"Error: Flow run '{name}' ended Failed: boom"


def test_ctrl_c_stops_watching_not_the_run(served: Served, watch: list[Watch]) -> None:
    watching = Watch(served, "cli-etl/manual")
    watch.append(watching)
    name, run_id = watching.wait_for(CREATED.pattern).groups()
    watching.wait_for(r"\| Scheduled$")
    watching.proc.send_signal(signal.SIGINT)
    code, _, err = watching.finish()
    assert code == 130, err
    assert "Traceback" not in err
    assert f"Stopped watching; flow run '{name}' ({run_id}) keeps going." in err
    assert served.api("GET", f"/flow_runs/{run_id}")["state_type"] == "SCHEDULED"


# pause / resume


def test_pause_removes_future_runs_and_resume_brings_them_back(served: Served) -> None:
    name = "cli-report/ticker"
    before = served.wait_scheduled(name)

    said = _ok(served.baton("deployment", "pause", name))
    assert said.strip() == (
        f"Paused deployment {name}: its schedules are off, and pausing removed its "
        f"{before} future scheduled runs."
    )
    assert served.api("GET", f"/deployments/{served.ids[name]}")["paused"] is True
    assert served.scheduled(name) == 0
    assert "is already paused" in _ok(served.baton("deployment", "pause", name))
    assert _row(_ok(served.baton("deployment", "ls")), name)[2] == "paused"

    said = _ok(served.baton("deployment", "resume", served.ids[name]))
    assert said.strip() == f"Resumed deployment {name}: its schedules create runs again."
    assert served.api("GET", f"/deployments/{served.ids[name]}")["paused"] is False
    assert served.wait_scheduled(name) > 0
    assert "is not paused" in _ok(served.baton("deployment", "resume", name))


# backfill


def test_backfill_creates_the_missing_runs_once(served: Served) -> None:
    window = ("--start", "2026-01-01T00:00:00+00:00", "--end", "2026-01-01T05:30:00+00:00")
    first = _ok(served.baton("deployment", "backfill", "cli-etl/hourly", *window))
    assert first.startswith("Created 6 runs of cli-etl/hourly between ")

    again = json.loads(
        _ok(served.baton("deployment", "backfill", "cli-etl/hourly", *window, "--json"))
    )
    assert tuple(again) == BACKFILL_KEYS
    assert (again["created"], again["already_there"]) == (0, 6)
    assert again["start_time"] == "2026-01-01T00:00:00+00:00"
    shown = _ok(served.baton("deployment", "backfill", "cli-etl/hourly", *window))
    assert "Created no runs: the 6 runs of cli-etl/hourly between" in shown
    assert "were already there" in shown

    runs = served.api(
        "POST",
        "/flow_runs/filter",
        {
            "deployments": {"id": {"any_": [served.ids["cli-etl/hourly"]]}},
            "flow_runs": {"expected_start_time": {"before_": "2026-01-02T00:00:00Z"}},
            "sort": "EXPECTED_START_TIME_ASC",
        },
    )
    assert [r["expected_start_time"][11:16] for r in runs] == [
        "00:00",
        "01:00",
        "02:00",
        "03:00",
        "04:00",
        "05:00",
    ]


def test_backfill_with_spans_back_from_now(served: Served) -> None:
    now = dt.datetime.now(dt.UTC)
    nine_am = [  # 09:00 in New York on each of the last few days
        dt.datetime.combine(now.date() - dt.timedelta(days=back), dt.time(9), NEW_YORK)
        for back in range(5)
    ]
    expected = sum(now - dt.timedelta(days=3) <= t <= now - dt.timedelta(hours=1) for t in nine_am)
    args = ("deployment", "backfill", "cli-etl/nightly", "--start", "3d", "--end", "1h")
    assert _ok(served.baton(*args)).startswith(f"Created {expected} runs of cli-etl/nightly")
    again = json.loads(_ok(served.baton(*args, "--json")))
    assert (again["created"], again["already_there"]) == (0, expected)


def test_backfill_needs_an_active_schedule(served: Served) -> None:
    message = _refused(
        served.baton("deployment", "backfill", "cli-etl/manual", "--start", "2d", "--end", "1d")
    )
    assert "Deployment cli-etl/manual has no active schedule: nothing to backfill." in message


# failures


@pytest.mark.parametrize("args", [("ls",), ("run", "a/b")])
def test_unreachable_server_is_one_line(served: Served, args: tuple[str, ...]) -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    message = _refused(run_baton("deployment", *args, env={**served.env, "PREFECT_API_URL": url}))
    assert message.strip() == (
        f"Error: Cannot reach the Baton server at {url} (set PREFECT_API_URL to point elsewhere)."
    )
