"""`baton work-pool ls|inspect|create|pause|resume` and `baton worker ls`: work pools, their
queues and the workers polling them, over the HTTP API.

A pool is named on the command line by its name or its id. Baton runs no workers itself:
the Prefect worker (`prefect worker start --pool NAME`) polls a pool and runs its flows.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table
from rich.text import Text

from baton.cli.client import ApiError, Client, Unreachable, connect
from baton.cli.output import err, fail, out
from baton.cli.parsing import close_matches, did_you_mean, get_or_none
from baton.cli.render import add_row, duration, local_time, pick, print_json, say, show, table

pools = typer.Typer(
    help="List, inspect, create, pause and resume work pools.", no_args_is_help=True
)
workers = typer.Typer(help="List the workers polling a work pool.", no_args_is_help=True)

# The keys of each object `work-pool ls --json` prints, in this order.
POOL_KEYS = (
    "id",
    "name",
    "type",
    "description",
    "is_paused",
    "concurrency_limit",
    "status",
    "default_queue_id",
    "created",
)
QUEUE_KEYS = (
    "id",
    "name",
    "priority",
    "concurrency_limit",
    "is_paused",
    "status",
    "last_polled",
    "description",
)
WORKER_KEYS = ("id", "name", "status", "last_heartbeat_time", "heartbeat_interval_seconds")
# A pool's job template when the server offers none for its type: no settings at all.
MINIMAL_JOB_TEMPLATE: dict[str, Any] = {
    "job_configuration": {},
    "variables": {"type": "object", "properties": {}},
}

PoolRef = Annotated[str, typer.Argument(metavar="NAME", help="A work pool's name or id.")]


def _json_flag(what: str) -> Any:
    return typer.Option("--json", help=f"Print {what}.")


@pools.command("ls")
def list_pools(
    as_json: Annotated[
        bool, _json_flag(f"a JSON array of objects with the keys {', '.join(POOL_KEYS)}")
    ] = False,
) -> None:
    """List work pools by name."""
    with connect() as client:
        found = all_pools(client)
    rows = sorted((pick(pool, POOL_KEYS) for pool in found), key=lambda row: str(row["name"]))
    if as_json:
        print_json(rows)
        return
    if not rows:
        err.print("No work pools found.")
        return
    grid = table("Name", "Type", "Paused", "Concurrency limit", "Status")
    for row in rows:
        add_row(
            grid,
            row["name"],
            row["type"] or "-",
            paused_text(row["is_paused"]),
            limit_text(row["concurrency_limit"]),
            status_text(row["status"]),
        )
    show(grid)


@pools.command()
def inspect(
    ref: PoolRef,
    as_json: Annotated[
        bool,
        _json_flag(
            "the server's work-pool object plus `queues` (keys: "
            f"{', '.join(QUEUE_KEYS)}), `workers` (keys: {', '.join(WORKER_KEYS)}) and "
            "`scheduled_runs`, the number of its runs in a Scheduled state"
        ),
    ] = False,
) -> None:
    """Show one work pool: its settings, its queues in priority order, the workers polling it
    and how many of its runs are scheduled."""
    with connect() as client:
        pool = find_pool(client, ref)
        path = quote(pool["name"], safe="")
        missing = f"Work pool {pool['name']!r} no longer exists."
        queues = client.post(
            f"work_pools/{path}/queues/filter", {}, action="read work queues", missing=missing
        )
        polling = client.post(
            f"work_pools/{path}/workers/filter", {}, action="read workers", missing=missing
        )
        scheduled = client.post(
            "flow_runs/count",
            {
                "work_pools": {"name": {"any_": [pool["name"]]}},
                "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
            },
            action="count flow runs",
        )
    queues.sort(key=lambda queue: (queue.get("priority") or 0, str(queue.get("name"))))
    if as_json:
        print_json(
            {
                **pool,
                "queues": [pick(queue, QUEUE_KEYS) for queue in queues],
                "workers": [pick(worker, WORKER_KEYS) for worker in polling],
                "scheduled_runs": scheduled,
            }
        )
        return
    show(details(pool, queues, int(scheduled)))
    out.print()
    grid = table("Queue", "Priority", "Concurrency limit", "Paused", "Status", "Last polled")
    for queue in queues:
        add_row(
            grid,
            queue.get("name") or "-",
            str(queue.get("priority", "-")),
            limit_text(queue.get("concurrency_limit")),
            paused_text(queue.get("is_paused")),
            status_text(queue.get("status")),
            local_time(queue.get("last_polled")),
        )
    show(grid)
    out.print()
    if polling:
        show(workers_table(polling))
    else:
        out.print(Text("Workers: none", style="bold"))


@pools.command()
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The new pool's name.")],
    pool_type: Annotated[
        str,
        typer.Option(
            "--type",
            metavar="TYPE",
            help="The type of worker that polls it (process, docker, kubernetes, ...).",
        ),
    ] = "process",
    concurrency_limit: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            min=0,
            help="At most this many of its runs at once (none when left out).",
            show_default=False,
        ),
    ] = None,
    paused: Annotated[
        bool, typer.Option("--paused", help="Create it paused: workers get no runs from it.")
    ] = False,
) -> None:
    """Create a work pool, with its `default` queue. Its job template is the server's
    default for the type when the server has one, else empty."""
    with connect() as client:
        created = client.post(
            "work_pools/",
            {
                "name": name,
                "type": pool_type,
                "description": None,
                "base_job_template": default_job_template(client, pool_type),
                "is_paused": paused,
                "concurrency_limit": concurrency_limit,
            },
            action="create work pools",
        )
    state = ", paused" if created.get("is_paused") else ""
    say(f"Created work pool {created['name']!r} (type {created.get('type')}{state}).")
    err.print(
        Text(f"Start a worker for it with: prefect worker start --pool {created['name']}", "dim")
    )


@pools.command()
def pause(ref: PoolRef) -> None:
    """Pause a work pool: workers polling it get no runs until it is resumed."""
    with connect() as client:
        pool = find_pool(client, ref)
        if pool.get("is_paused"):
            say(f"Work pool {pool['name']!r} is already paused.")
            return
        set_paused(client, pool, True)
    say(f"Paused work pool {pool['name']!r}: its workers get no runs until it is resumed.")


@pools.command()
def resume(ref: PoolRef) -> None:
    """Resume a paused work pool: its workers get its runs again."""
    with connect() as client:
        pool = find_pool(client, ref)
        if not pool.get("is_paused"):
            say(f"Work pool {pool['name']!r} is not paused.")
            return
        set_paused(client, pool, False)
    say(f"Resumed work pool {pool['name']!r}.")


@workers.command("ls")
def list_workers(
    ref: PoolRef,
    as_json: Annotated[
        bool, _json_flag(f"a JSON array of objects with the keys {', '.join(WORKER_KEYS)}")
    ] = False,
) -> None:
    """List the workers that have polled a work pool, with their last heartbeat."""
    with connect() as client:
        pool = find_pool(client, ref)
        found = client.post(
            f"work_pools/{quote(pool['name'], safe='')}/workers/filter",
            {},
            action="read workers",
            missing=f"Work pool {pool['name']!r} no longer exists.",
        )
    if as_json:
        print_json([pick(worker, WORKER_KEYS) for worker in found])
        return
    if not found:
        err.print(f"No worker has polled work pool {pool['name']!r}.")
        return
    show(workers_table(found))


# --- finding pools ---------------------------------------------------------------------


def all_pools(client: Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.post("work_pools/filter", {}, action="list work pools")
    return found


def find_pool(client: Client, ref: str) -> dict[str, Any]:
    """The pool `ref` names (a name, else an id), or fail naming the closest pools."""
    try:
        pool_id = str(uuid.UUID(ref))
    except ValueError:
        pass
    else:
        by_id = [pool for pool in all_pools(client) if pool.get("id") == pool_id]
        if by_id:
            return by_id[0]
    pool: dict[str, Any] | None = get_or_none(
        client, f"work_pools/{quote(ref, safe='')}", action="read work pools"
    )
    if pool is None:
        names = [(str(p["name"]), str(p["name"])) for p in all_pools(client)]
        hint = did_you_mean(close_matches(ref, names), "`baton work-pool ls` lists them.")
        fail(f"No work pool named {ref!r}.{hint}")
    return pool


def default_job_template(client: Client, pool_type: str) -> dict[str, Any]:
    """The server's default job template for `pool_type`, or an empty one."""
    try:
        metadata = client.get(
            "collections/views/aggregate-worker-metadata", action="read worker types"
        )
    except Unreachable:
        raise
    except ApiError:  # no such endpoint, or nothing to say: the empty template will do
        return MINIMAL_JOB_TEMPLATE
    # {collection: {worker type: {"type": …, "default_base_job_configuration": {…}}}}
    for collection in (metadata or {}).values() if isinstance(metadata, dict) else ():
        if not isinstance(collection, dict):
            continue
        for key, worker in collection.items():
            if not isinstance(worker, dict) or (worker.get("type") or key) != pool_type:
                continue
            template = worker.get("default_base_job_configuration")
            if isinstance(template, dict):
                return template
    return MINIMAL_JOB_TEMPLATE


def set_paused(client: Client, pool: dict[str, Any], paused: bool) -> None:
    client.patch(
        f"work_pools/{quote(pool['name'], safe='')}",
        {"is_paused": paused},
        action="update work pools",
        missing=f"Work pool {pool['name']!r} no longer exists.",
    )


# --- rows and details ------------------------------------------------------------------


def paused_text(paused: Any) -> str | Text:
    return Text("paused", style="yellow") if paused else "no"


def limit_text(limit: Any) -> str:
    return "-" if limit is None else str(limit)


def status_text(status: Any) -> Text:
    styles = {"READY": "green", "ONLINE": "green", "PAUSED": "yellow"}
    return Text(str(status or "-"), style=styles.get(str(status), "dim"))


def workers_table(found: list[dict[str, Any]]) -> Table:
    grid = table("Worker", "Status", "Last heartbeat", "Heartbeat every")
    for worker in found:
        add_row(
            grid,
            worker.get("name") or "-",
            status_text(worker.get("status")),
            local_time(worker.get("last_heartbeat_time")),
            duration(worker.get("heartbeat_interval_seconds")),
        )
    return grid


def details(pool: dict[str, Any], queues: list[dict[str, Any]], scheduled: int) -> Table:
    default = next((q["name"] for q in queues if q.get("id") == pool.get("default_queue_id")), None)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    rows: list[tuple[str, str | Text]] = [
        ("ID", pool["id"]),
        ("Name", pool["name"]),
        ("Type", pool.get("type") or "-"),
        ("Description", pool.get("description") or "-"),
        ("Paused", paused_text(pool.get("is_paused"))),
        ("Status", status_text(pool.get("status"))),
        ("Concurrency limit", limit_text(pool.get("concurrency_limit"))),
        ("Default queue", default or "-"),
        ("Scheduled runs", str(scheduled)),
        ("Created", local_time(pool.get("created"))),
    ]
    for key, value in rows:
        add_row(grid, key, value)
    return grid
