"""`baton deployment ls|inspect|run|pause|resume|backfill`: deployments over the HTTP API.

A deployment is named on the command line as FLOW/DEPLOYMENT, by its id, or by its bare
name when only one flow has a deployment of that name. A name that matches nothing is
answered with the closest names that exist.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table
from rich.text import Text

from baton.cli.client import Client, connect
from baton.cli.flow_runs import flow_by_name, flow_names, start_column
from baton.cli.output import err, fail, note, out
from baton.cli.parsing import (
    close_matches,
    did_you_mean,
    get_or_none,
    run_parameters,
    since_option,
    span_option,
    time_option,
)
from baton.cli.render import (
    add_row,
    api_time,
    local_time,
    pick,
    print_json,
    say,
    show,
    state_text,
    table,
)
from baton.cli.watch import RunWatcher
from baton.orchestration.schedules import parse_schedule
from baton.schemas.filters import MAX_LIMIT

app = typer.Typer(
    help="List, inspect, run, pause, resume and backfill deployments.", no_args_is_help=True
)

# The keys of each object `deployment ls --json` prints, in this order; each of its
# `schedules` has SCHEDULE_KEYS.
LIST_KEYS = (
    "id",
    "name",
    "flow_id",
    "flow_name",
    "schedules",
    "paused",
    "work_pool_name",
    "work_queue_name",
    "status",
    "tags",
)
SCHEDULE_KEYS = ("id", "active", "description", "schedule")
# The runs `deployment inspect --json` adds (next_runs, recent_runs).
RUN_KEYS = ("id", "name", "state_type", "state_name", "expected_start_time", "start_time")
# What `deployment run --json` prints of the run it created.
CREATED_KEYS = (
    "id",
    "name",
    "flow_id",
    "deployment_id",
    "state_type",
    "state_name",
    "expected_start_time",
    "parameters",
    "work_pool_name",
    "work_queue_name",
)
BACKFILL_KEYS = (
    "deployment_id",
    "deployment",
    "start_time",
    "end_time",
    "created",
    "already_there",
)
RUNS_SHOWN = 5
# The server creates at most this many runs per backfill request.
BACKFILL_MAX_RUNS = 1000

DeploymentRef = Annotated[
    str,
    typer.Argument(
        metavar="FLOW/DEPLOYMENT", help="A deployment's flow and name (FLOW/DEPLOYMENT), or id."
    ),
]


@app.command("ls")
def list_deployments(
    flow: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Only the deployments of the flow with this name.",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(metavar="N", min=1, max=MAX_LIMIT, help="At most this many.")
    ] = 100,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help=f"Print a JSON array of objects with the keys {', '.join(LIST_KEYS)}; each of "
            f"`schedules` has the keys {', '.join(SCHEDULE_KEYS)}.",
        ),
    ] = False,
) -> None:
    """List deployments by flow and name, with their schedules in words."""
    body: dict[str, Any] = {"sort": "NAME_ASC", "limit": limit, "offset": 0}
    if flow is not None:
        body["flows"] = {"name": {"any_": [flow]}}
    with connect() as client:
        found = client.post("deployments/filter", body, action="list deployments")
        if not found and flow is not None:
            flow_by_name(client, flow)  # fails when no such flow exists: likely a typo
        names = flow_names(client, [d["flow_id"] for d in found])
    rows = [list_row(d, names.get(d["flow_id"])) for d in found]
    rows.sort(key=lambda row: (row["flow_name"] or "", row["name"]))
    if as_json:
        print_json(rows)
        return
    if not rows:
        err.print("No deployments found.")
        return
    grid = table("Deployment", "Schedule", "Paused", "Work pool", "Status")
    for row in rows:
        add_row(
            grid,
            full_name(row["flow_name"], row["name"]),
            schedule_summary(row["schedules"]),
            Text("paused", style="yellow") if row["paused"] else "no",
            row["work_pool_name"] or "-",
            status_text(row["status"]),
        )
    show(grid)


@app.command()
def inspect(
    ref: DeploymentRef,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the server's deployment object plus `flow_name`, a `description` in "
            "each schedule, and `next_runs` and `recent_runs` (keys: "
            f"{', '.join(RUN_KEYS)}).",
        ),
    ] = False,
) -> None:
    """Show one deployment: its settings, its schedules in words, its next scheduled runs and
    its most recent runs."""
    with connect() as client:
        deployment, flow = find_deployment(client, ref)
        ours = {"deployments": {"id": {"any_": [deployment["id"]]}}, "limit": RUNS_SHOWN}
        upcoming = client.post(
            "flow_runs/filter",
            {
                **ours,
                "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
                "sort": "EXPECTED_START_TIME_ASC",
            },
            action="list flow runs",
        )
        recent = client.post(
            "flow_runs/filter",
            {
                **ours,
                "flow_runs": {"state": {"type": {"not_any_": ["SCHEDULED"]}}},
                "sort": "EXPECTED_START_TIME_DESC",
            },
            action="list flow runs",
        )
    schedules = [schedule_row(s) for s in deployment.get("schedules") or []]
    if as_json:
        print_json(
            {
                **deployment,
                "flow_name": flow,
                "schedules": [
                    {**raw, "description": row["description"]}
                    for raw, row in zip(deployment.get("schedules") or [], schedules, strict=True)
                ],
                "next_runs": [pick(run, RUN_KEYS) for run in upcoming],
                "recent_runs": [pick(run, RUN_KEYS) for run in recent],
            }
        )
        return
    show(details(deployment, flow, schedules))
    for title, runs in (("Next runs", upcoming), ("Recent runs", recent)):
        out.print()
        if not runs:
            out.print(Text(f"{title}: none", style="bold"))
            continue
        grid = table(title, "ID", "State", "Start")
        for run in runs:
            label, style = state_text(run.get("state_type"), run.get("state_name"))
            add_row(grid, run["name"], run["id"], Text(label, style=style), start_column(run))
        show(grid)


@app.command()
def run(
    ref: DeploymentRef,
    param: Annotated[
        list[str] | None,
        typer.Option(
            metavar="KEY=VALUE",
            help="A parameter of the run; repeat for several. VALUE is read as JSON when it "
            "is JSON (n=5 is a number, on=true a boolean, xs=[1,2] a list) and kept as text "
            "otherwise (name=Ada); quote it as JSON to force text (n='\"5\"').",
            show_default=False,
        ),
    ] = None,
    params: Annotated[
        str | None,
        typer.Option(
            metavar="JSON",
            help="Parameters as one JSON object; --param values win over it.",
            show_default=False,
        ),
    ] = None,
    start_in: Annotated[
        dt.timedelta | None,
        typer.Option(
            metavar="SPAN",
            parser=span_option,
            help="Schedule the run this long from now: 30s, 10m, 1h30m, 2d.",
            show_default=False,
        ),
    ] = None,
    start_at: Annotated[
        dt.datetime | None,
        typer.Option(
            metavar="TIME",
            parser=time_option,
            help="Schedule the run at this ISO 8601 time (local time unless it has an offset).",
            show_default=False,
        ),
    ] = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Follow the run until it finishes, printing its state changes and logs; "
            "exit 0 if it completed, 1 otherwise. Ctrl-C stops watching (exit 130), not the run.",
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help=f"Print a JSON object with the keys {', '.join(CREATED_KEYS)}: the run as "
            "created, or with --watch as it finished (its states and logs then go to stderr).",
        ),
    ] = False,
) -> None:
    """Create a run of a deployment, scheduled for now unless told otherwise. It starts when
    something picks it up: a worker polling the deployment's work pool, or the process
    serving the deployment."""
    if start_in is not None and start_at is not None:
        raise typer.BadParameter("pass --start-in or --start-at, not both", param_hint="--start-at")
    parameters = run_parameters(param or [], params)
    now = dt.datetime.now(dt.UTC)
    who: str | None = None
    when = start_at or now + (start_in or dt.timedelta())
    try:
        with connect() as client:
            deployment, flow = find_deployment(client, ref)
            name = full_name(flow, deployment["name"])
            created = client.post(
                f"deployments/{deployment['id']}/create_flow_run",
                {
                    "parameters": parameters,
                    "state": {
                        "type": "SCHEDULED",
                        "name": "Scheduled",
                        "state_details": {"scheduled_time": api_time(when)},
                    },
                },
                action="create flow runs",
                missing=f"Deployment {name} no longer exists.",
            )
            who = f"flow run {created['name']!r} ({created['id']})"
            at = "now" if when <= now else local_time(created.get("expected_start_time"))
            # With --json, stdout holds the JSON alone.
            (err if as_json else out).print(
                Text(f"Created {who} of {name}, scheduled for {at}."), soft_wrap=True
            )
            if not watch:
                if as_json:
                    print_json(pick(created, CREATED_KEYS))
                return
            note("Watching it until it finishes; Ctrl-C stops watching, not the run.")
            finished = RunWatcher(client, created, err if as_json else out).watch()
    except KeyboardInterrupt:
        if who is not None:
            note(f"Stopped watching; {who} keeps going.")
        raise typer.Exit(130) from None
    if as_json:
        print_json(pick(finished, CREATED_KEYS))
    label, _ = state_text(finished.get("state_type"), finished.get("state_name"))
    if finished.get("state_type") == "COMPLETED":
        if not as_json:
            say(f"Flow run {finished['name']!r} completed.")
        return
    message = (finished.get("state") or {}).get("message")
    fail(f"Flow run {finished['name']!r} ended {label}" + (f": {message}" if message else "."))


@app.command()
def pause(ref: DeploymentRef) -> None:
    """Pause a deployment: its schedules stop creating runs, and the future runs they had
    scheduled are deleted (runs already due, and runs created by hand, stay)."""
    with connect() as client:
        deployment, flow = find_deployment(client, ref)
        name = full_name(flow, deployment["name"])
        if deployment.get("paused"):
            say(f"Deployment {name} is already paused.")
            return
        before = count_scheduled(client, deployment["id"])
        set_paused(client, deployment, name, True)
        removed = before - count_scheduled(client, deployment["id"])
    runs = "1 future scheduled run" if removed == 1 else f"{max(removed, 0)} future scheduled runs"
    say(f"Paused deployment {name}: its schedules are off, and pausing removed its {runs}.")


@app.command()
def resume(ref: DeploymentRef) -> None:
    """Resume a paused deployment: its schedules create runs again from now on (the runs
    missed while it was paused are not made up)."""
    with connect() as client:
        deployment, flow = find_deployment(client, ref)
        name = full_name(flow, deployment["name"])
        if not deployment.get("paused"):
            say(f"Deployment {name} is not paused.")
            return
        set_paused(client, deployment, name, False)
    say(f"Resumed deployment {name}: its schedules create runs again.")


@app.command()
def backfill(
    ref: DeploymentRef,
    start: Annotated[
        dt.datetime,
        typer.Option(
            metavar="WHEN",
            parser=since_option,
            help="The window's start: a span back from now (2d is two days ago; 30m, 1h, 1w) "
            "or an ISO 8601 time (local time unless it has an offset).",
            show_default=False,
        ),
    ],
    end: Annotated[
        dt.datetime,
        typer.Option(
            metavar="WHEN",
            parser=since_option,
            help="The window's end, as --start.",
            show_default=False,
        ),
    ],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help=f"Print a JSON object with the keys {', '.join(BACKFILL_KEYS)}."
        ),
    ] = False,
) -> None:
    """Create the runs a deployment's active schedules call for between two times, usually
    in the past. Runs already there are not created again, so backfilling twice is safe."""
    if start >= end:
        raise typer.BadParameter("must be before --end", param_hint="--start")
    with connect() as client:
        deployment, flow = find_deployment(client, ref)
        name = full_name(flow, deployment["name"])
        if deployment.get("paused"):
            fail(f"Deployment {name} is paused; resume it to backfill.")
        if not any(s.get("active") for s in deployment.get("schedules") or []):
            fail(f"Deployment {name} has no active schedule: nothing to backfill.")
        with err.status(f"Creating the runs of {name}…"):
            created = client.post(
                f"deployments/{deployment['id']}/schedule",
                {"start_time": api_time(start), "end_time": api_time(end)},
                action="schedule runs",
                missing=f"Deployment {name} no longer exists.",
            )["created"]
            in_window = client.post(
                "flow_runs/count",
                {
                    "deployments": {"id": {"any_": [deployment["id"]]}},
                    "flow_runs": {
                        "expected_start_time": {
                            "after_": api_time(start),
                            "before_": api_time(end),
                        },
                        # The scheduler's runs carry the key "scheduled <deployment> …".
                        "idempotency_key": {"startswith_": f"scheduled {deployment['id']} "},
                    },
                },
                action="count flow runs",
            )
    already = max(int(in_window) - created, 0)
    if as_json:
        print_json(
            {
                "deployment_id": deployment["id"],
                "deployment": name,
                "start_time": api_time(start),
                "end_time": api_time(end),
                "created": created,
                "already_there": already,
            }
        )
    else:
        window = f"between {local_time(api_time(start))} and {local_time(api_time(end))}"
        say(backfill_summary(name, window, created, already))
    if in_window >= BACKFILL_MAX_RUNS:
        note(
            f"The server creates at most {BACKFILL_MAX_RUNS} runs per backfill: backfill "
            "the rest of the window with a later --start."
        )


# --- finding deployments ---------------------------------------------------------------


def find_deployment(client: Client, ref: str) -> tuple[dict[str, Any], str | None]:
    """(deployment, flow name) of `ref`: an id, FLOW/DEPLOYMENT, or a bare deployment name
    that only one flow uses; otherwise fail, naming the closest deployments."""
    try:
        deployment_id = uuid.UUID(ref)
    except ValueError:
        pass
    else:
        found: dict[str, Any] = client.get(
            f"deployments/{deployment_id}",
            action="read deployments",
            missing=f"No deployment has the id {ref}.",
        )
        return found, flow_names(client, [found["flow_id"]]).get(found["flow_id"])
    flow, slash, name = ref.partition("/")
    if slash:
        path = f"deployments/name/{quote(flow, safe='')}/{quote(name, safe='')}"
        by_name = get_or_none(client, path, action="read deployments")
        if by_name is None:
            fail(_no_such(client, ref))
        return by_name, flow
    matches = client.post(
        "deployments/filter",
        {"deployments": {"name": {"any_": [ref]}}, "sort": "NAME_ASC", "limit": 21},
        action="read deployments",
    )
    names = flow_names(client, [d["flow_id"] for d in matches])
    if not matches:
        fail(_no_such(client, ref))
    if len(matches) > 1:
        listed = ", ".join(full_name(names.get(d["flow_id"]), d["name"]) for d in matches[:20])
        fail(f"Several flows have a deployment named {ref!r} ({listed}); pass FLOW/DEPLOYMENT.")
    return matches[0], names.get(matches[0]["flow_id"])


def _no_such(client: Client, ref: str) -> str:
    """ "No deployment named …", with the closest names that exist."""
    everything = client.post(
        "deployments/filter", {"sort": "NAME_ASC", "limit": MAX_LIMIT}, action="list deployments"
    )
    names = flow_names(client, [d["flow_id"] for d in everything])
    choices = []
    for deployment in everything:
        full = full_name(names.get(deployment["flow_id"]), deployment["name"])
        # A bare name is compared with bare names too.
        choices.append((deployment["name"] if "/" not in ref else full, full))
        choices.append((full, full))
    hint = did_you_mean(close_matches(ref, choices), "`baton deployment ls` lists them.")
    return f"No deployment named {ref!r}.{hint}"


def full_name(flow: str | None, deployment: str) -> str:
    return f"{flow or '?'}/{deployment}"


# --- rows and details ------------------------------------------------------------------


def describe_schedule(raw: Any) -> str:
    try:
        return parse_schedule(raw).describe()
    except ValueError:  # stored by a newer server, say: show it as it is
        return json.dumps(raw, ensure_ascii=False)


def schedule_row(schedule: dict[str, Any]) -> dict[str, Any]:
    row = pick(schedule, SCHEDULE_KEYS)
    row["description"] = describe_schedule(schedule.get("schedule"))
    return row


def list_row(deployment: dict[str, Any], flow: str | None) -> dict[str, Any]:
    row = pick(deployment, LIST_KEYS)
    row["flow_name"] = flow
    row["schedules"] = [schedule_row(s) for s in deployment.get("schedules") or []]
    return row


def schedule_summary(schedules: list[dict[str, Any]]) -> str | Text:
    active = [s["description"] for s in schedules if s.get("active")]
    if active:
        return "; ".join(active)
    if schedules:
        return Text("inactive", style="dim")
    return "-"


def status_text(status: Any) -> Text:
    return Text(str(status or "-"), style="green" if status == "READY" else "dim")


def details(deployment: dict[str, Any], flow: str | None, schedules: list[dict[str, Any]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    pool = deployment.get("work_pool_name")
    queue = deployment.get("work_queue_name")
    rows: list[tuple[str, str | Text]] = [
        ("ID", deployment["id"]),
        ("Name", full_name(flow, deployment["name"])),
        ("Flow", f"{flow or '-'} ({deployment.get('flow_id')})"),
        ("Description", deployment.get("description") or "-"),
        ("Version", deployment.get("version") or "-"),
        ("Paused", Text("paused", style="yellow") if deployment.get("paused") else "no"),
        ("Status", status_text(deployment.get("status"))),
        ("Work pool", f"{pool} (queue {queue or 'default'})" if pool else "-"),
        ("Entrypoint", deployment.get("entrypoint") or "-"),
        ("Tags", ", ".join(deployment.get("tags") or []) or "-"),
        ("Parameters", json.dumps(deployment.get("parameters") or {}, ensure_ascii=False)),
        ("Concurrency limit", str(deployment.get("concurrency_limit") or "-")),
        ("Created", local_time(deployment.get("created"))),
        ("Last polled", local_time(deployment.get("last_polled"))),
    ]
    if not schedules:
        rows.append(("Schedules", "-"))
    for i, schedule in enumerate(schedules):
        cell = Text(schedule["description"])
        if not schedule.get("active"):
            cell.append("  (inactive)", style="dim")
        rows.append(("Schedules" if i == 0 else "", cell))
    for key, value in rows:
        add_row(grid, key, value)
    return grid


def backfill_summary(name: str, window: str, created: int, already: int) -> str:
    runs = "1 run" if created == 1 else f"{created} runs"
    if created and already:
        return f"Created {runs} of {name} {window}; {already} were already there."
    if created:
        return f"Created {runs} of {name} {window}."
    if already:
        return f"Created no runs: the {already} runs of {name} {window} were already there."
    return f"Created no runs: no run of {name}'s schedules falls {window}."


# --- pausing ---------------------------------------------------------------------------


def count_scheduled(client: Client, deployment_id: str) -> int:
    return int(
        client.post(
            "flow_runs/count",
            {
                "deployments": {"id": {"any_": [deployment_id]}},
                "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
            },
            action="count flow runs",
        )
    )


def set_paused(client: Client, deployment: dict[str, Any], name: str, paused: bool) -> None:
    client.patch(
        f"deployments/{deployment['id']}",
        {"paused": paused},
        action="update deployments",
        missing=f"Deployment {name} no longer exists.",
    )
