"""`baton flow-run ls|inspect|cancel|delete`: flow runs over the HTTP API.

A run is named on the command line by its id or by its generated name ("proud-albatross");
names are almost always unique, and when they are not the matches are listed instead of
one being picked.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table
from rich.text import Text

from baton.cli.client import Client, connect
from baton.cli.output import err, fail, out
from baton.cli.render import (
    add_row,
    duration,
    local_time,
    pick,
    print_json,
    say,
    show,
    state_text,
    table,
)
from baton.orchestration.states import DEFAULT_NAMES, TERMINAL, StateType
from baton.schemas.filters import MAX_LIMIT

app = typer.Typer(help="List, inspect, cancel and delete flow runs.", no_args_is_help=True)

# The keys of each object `flow-run ls --json` prints, in this order.
LIST_KEYS = (
    "id",
    "name",
    "flow_id",
    "flow_name",
    "state_type",
    "state_name",
    "expected_start_time",
    "start_time",
    "end_time",
    "duration_seconds",
    "tags",
    "deployment_id",
    "work_pool_name",
)
TASK_RUN_KEYS = ("id", "name", "state_type", "state_name", "start_time", "end_time")
TASK_RUNS_SHOWN = 200

# Well-known state names beyond each type's default, so `--state late` finds "Late".
_MORE_STATE_NAMES = (
    "Late",
    "AwaitingRetry",
    "AwaitingConcurrencySlot",
    "Retrying",
    "Cached",
    "Suspended",
    "TimedOut",
    "RolledBack",
    "Submitting",
)
STATE_NAMES = {n.lower(): n for n in (*DEFAULT_NAMES.values(), *_MORE_STATE_NAMES)}
_LOOKS_LIKE_ID = re.compile(r"[0-9a-fA-F-]{8,}")

RunRef = Annotated[str, typer.Argument(metavar="ID_OR_NAME", help="A flow run's id or name.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("ls")
def list_runs(
    state: Annotated[
        list[str] | None,
        typer.Option(
            metavar="STATE",
            help="Only runs in this state: a type (COMPLETED, failed, ...) or a name "
            "(Late, AwaitingRetry, ...); case-insensitive; repeat for several.",
            show_default=False,
        ),
    ] = None,
    flow: Annotated[
        str | None,
        typer.Option(
            metavar="NAME", help="Only runs of the flow with this name.", show_default=False
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(metavar="N", min=1, max=MAX_LIMIT, help="At most this many runs.")
    ] = 20,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help=f"Print a JSON array of objects with the keys {', '.join(LIST_KEYS)}."
        ),
    ] = False,
) -> None:
    """List flow runs, newest (by expected start time) first."""
    body: dict[str, Any] = {"sort": "EXPECTED_START_TIME_DESC", "limit": limit, "offset": 0}
    if state:
        body["flow_runs"] = {"state": state_filter(state)}
    if flow is not None:
        body["flows"] = {"name": {"any_": [flow]}}
    with connect() as client:
        runs = client.post("flow_runs/filter", body, action="list flow runs")
        if not runs and flow is not None:
            flow_by_name(client, flow)  # fails when no such flow exists: likely a typo
        names = flow_names(client, [run["flow_id"] for run in runs])
    rows = [list_row(run, names) for run in runs]
    if as_json:
        print_json(rows)
        return
    if not rows:
        err.print("No flow runs found.")
        return
    grid = table("ID", "Name", "Flow", "State", "Start", "Duration")
    for row in rows:
        label, style = state_text(row["state_type"], row["state_name"])
        add_row(
            grid,
            row["id"],
            row["name"],
            row["flow_name"] or "-",
            Text(label, style=style),
            start_column(row),
            duration(row["duration_seconds"]),
        )
    show(grid)


@app.command()
def inspect(ref: RunRef, as_json: JsonFlag = False) -> None:
    """Show one flow run: its state, times, parameters and task runs.

    With --json, the server's flow-run object plus `flow_name` and `task_runs`
    (keys: id, name, state_type, state_name, start_time, end_time)."""
    with connect() as client:
        run = find_flow_run(client, ref)
        flow = flow_names(client, [run["flow_id"]]).get(run["flow_id"])
        task_runs = client.post(
            "task_runs/filter",
            {
                "task_runs": {"flow_run_id": {"any_": [run["id"]]}},
                "sort": "EXPECTED_START_TIME_ASC",
                "limit": TASK_RUNS_SHOWN,
            },
            action="list task runs",
        )
    if as_json:
        tasks = [pick(task, TASK_RUN_KEYS) for task in task_runs]
        print_json({**run, "flow_name": flow, "task_runs": tasks})
        return
    show(details(run, flow))
    if task_runs:
        grid = table("Task run", "State", "Start", "Duration")
        for task in task_runs:
            label, style = state_text(task.get("state_type"), task.get("state_name"))
            add_row(
                grid,
                task.get("name") or task["id"],
                Text(label, style=style),
                local_time(task.get("start_time")),
                duration(task.get("total_run_time")),
            )
        out.print()
        show(grid)


@app.command()
def cancel(ref: RunRef) -> None:
    """Cancel a flow run. A scheduled run is cancelled at once; a running one moves to
    Cancelling, and whatever runs it (a worker, or the flow's own process) stops it. A run
    that already finished is refused."""
    with connect() as client:
        run = find_flow_run(client, ref)
        who = describe(run)
        # Refused here: the server would accept CANCELLING after a terminal state, and
        # nothing would ever move the run on from there.
        if run.get("state_type") in TERMINAL:
            fail(f"Cannot cancel {who}: it already finished ({run.get('state_name')}).")
        result = client.post(
            f"flow_runs/{run['id']}/set_state",
            {"state": {"type": "CANCELLING", "name": "Cancelling"}},
            action="cancel flow runs",
            missing=f"Flow run {run['id']} no longer exists.",
        )
    status = result.get("status")
    state = result.get("state") or {}
    reason = (result.get("details") or {}).get("reason")
    if status == "ACCEPT":
        say(f"Asked {who} to stop: it is now Cancelling.")
    elif status == "REJECT" and state.get("type") == "CANCELLED":
        say(f"Cancelled {who}.")
    elif status == "WAIT":
        fail(f"The server asked to retry cancelling {who} later: {reason or 'no reason given'}.")
    else:
        fail(f"Cannot cancel {who}: {reason or f'the server answered {status}'}")


@app.command()
def delete(
    ref: RunRef,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (needed when piped).")
    ] = False,
) -> None:
    """Delete a flow run with its task runs and state history (its logs are kept)."""
    with connect() as client:
        run = find_flow_run(client, ref)
        who = describe(run)
        if not yes:
            if not sys.stdin.isatty():
                fail(f"Not deleting {who} without confirmation: pass --yes.")
            if not typer.confirm(f"Delete {who}?"):
                fail("Nothing deleted.")
        client.delete(
            f"flow_runs/{run['id']}",
            action="delete flow runs",
            missing=f"Flow run {run['id']} was already deleted.",
        )
    say(f"Deleted {who}.")


def state_filter(values: list[str]) -> dict[str, Any]:
    """A flow-run state filter matching any of `values`, each a state type or a name."""
    types, names = [], []
    for value in values:
        if value.upper() in StateType.__members__:
            types.append(value.upper())
        else:
            names.append(STATE_NAMES.get(value.lower(), value))
    criteria: dict[str, Any] = {"operator": "or_"}  # a type or a name may match
    if types:
        criteria["type"] = {"any_": types}
    if names:
        criteria["name"] = {"any_": names}
    return criteria


def find_flow_run(client: Client, ref: str) -> dict[str, Any]:
    """The flow run `ref` names (an id, else a name), or fail saying why there is none."""
    try:
        run_id = uuid.UUID(ref)
    except ValueError:
        pass
    else:
        run: dict[str, Any] = client.get(
            f"flow_runs/{run_id}", action="read flow runs", missing=f"No flow run has the id {ref}."
        )
        return run
    matches = client.post(
        "flow_runs/filter",
        {"flow_runs": {"name": {"any_": [ref]}}, "sort": "EXPECTED_START_TIME_DESC", "limit": 21},
        action="read flow runs",
    )
    if len(matches) != 1:
        _not_one(ref, matches)
    found: dict[str, Any] = matches[0]
    return found


def _not_one(ref: str, matches: list[dict[str, Any]]) -> NoReturn:
    if not matches:
        if _LOOKS_LIKE_ID.fullmatch(ref):
            fail(f"{ref!r} is not a valid flow-run id, and no flow run has that name.")
        fail(f"No flow run is named {ref!r}.")
    grid = table("ID", "Name", "State", "Start")
    for match in matches[:20]:
        label, style = state_text(match.get("state_type"), match.get("state_name"))
        add_row(grid, match["id"], match["name"], Text(label, style=style), start_column(match))
    err.print(grid)
    more = "more than 20" if len(matches) > 20 else str(len(matches))
    fail(f"{more} flow runs are named {ref!r}; pass an id instead.")


def flow_by_name(client: Client, name: str) -> dict[str, Any]:
    """The flow called `name`, or fail. (A filter, not /flows/name/…: any name fits a body.)"""
    flows = client.post(
        "flows/filter", {"flows": {"name": {"any_": [name]}}, "limit": 1}, action="read flows"
    )
    if not flows:
        fail(f"No flow is named {name!r}.")
    flow: dict[str, Any] = flows[0]
    return flow


def flow_names(client: Client, flow_ids: list[str]) -> dict[str, str]:
    """Flow id -> flow name, in one request."""
    unique = sorted(set(flow_ids))
    if not unique:
        return {}
    flows = client.post(
        "flows/filter",
        {"flows": {"id": {"any_": unique}}, "limit": len(unique)},
        action="read flows",
    )
    return {flow["id"]: flow["name"] for flow in flows}


def list_row(run: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    row = pick(run, LIST_KEYS)
    row["flow_name"] = names.get(run.get("flow_id", ""))
    row["duration_seconds"] = run_time(run)
    return row


def run_time(run: dict[str, Any]) -> float | None:
    """Seconds run: a finished run's total, a running one's so far; None before it starts."""
    if not run.get("start_time"):
        return None
    seconds = run.get("total_run_time") or run.get("estimated_run_time")
    return float(seconds) if isinstance(seconds, int | float) else None


def start_column(run: dict[str, Any]) -> Text:
    if run.get("start_time"):
        return Text(local_time(run["start_time"]))
    return Text(f"{local_time(run.get('expected_start_time'))} (expected)", style="dim")


def describe(run: dict[str, Any]) -> str:
    return f"flow run {run.get('name')!r} ({run['id']})"


def details(run: dict[str, Any], flow: str | None) -> Table:
    state = run.get("state") or {}
    label, style = state_text(run.get("state_type"), run.get("state_name"))
    state_cell = Text()
    state_cell.append(label, style=style)
    if state.get("message"):
        state_cell.append(f"  {state['message']}")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    rows: list[tuple[str, str | Text]] = [
        ("ID", run["id"]),
        ("Name", run.get("name") or "-"),
        ("Flow", f"{flow or '-'} ({run.get('flow_id')})"),
        ("State", state_cell),
        ("Created", local_time(run.get("created"))),
        ("Expected start", local_time(run.get("expected_start_time"))),
        ("Started", local_time(run.get("start_time"))),
        ("Ended", local_time(run.get("end_time"))),
        ("Duration", duration(run_time(run))),
        ("Run count", str(run.get("run_count", "-"))),
        ("Tags", ", ".join(run.get("tags") or []) or "-"),
        ("Parameters", json.dumps(run.get("parameters") or {}, ensure_ascii=False)),
    ]
    if run.get("deployment_id"):
        rows.append(("Deployment", str(run["deployment_id"])))
    if run.get("work_pool_name"):
        queue = run.get("work_queue_name") or "default"
        rows.append(("Work pool", f"{run['work_pool_name']} (queue {queue})"))
    if run.get("parent_task_run_id"):
        rows.append(("Parent task run", str(run["parent_task_run_id"])))
    for key, value in rows:
        add_row(grid, key, value)
    return grid
