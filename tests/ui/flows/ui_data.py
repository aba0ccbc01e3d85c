"""The UI tests' data, made by the real Prefect client: a flow with several tasks, printed
and logged lines, a subflow, markdown and table artifacts; a failing flow; a run whose name
is hostile HTML; a deployment with a cron schedule and a parameter schema; runs of it; a
worker's heartbeat; a variable; a global concurrency limit. The work pool comes first, from
`prefect work-pool create`. Prints the ids of what it made as one JSON line."""

import asyncio
import contextlib
import json
import sys
from enum import StrEnum

from prefect import flow, get_run_logger, tags, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.deployments import run_deployment
from prefect.schedules import Cron
from prefect.variables import Variable

POOL = "ui-pool"
HOSTILE = "<script>alert('pwned')</script>"
REPORT = f"# Report\n\nRows: **7**\n\n{HOSTILE}\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"


class Mode(StrEnum):
    fast = "fast"
    slow = "slow"


@task(name="extract")
def extract(n: int) -> list[int]:
    get_run_logger().info("extracting %s rows", n)
    return list(range(n))


@task(name="transform")
def transform(rows: list[int], factor: int) -> list[int]:
    print(f"transforming {len(rows)} rows by {factor}")
    return [r * factor for r in rows]


@task(name="load")
def load(batches: list[list[int]]) -> int:
    total = sum(len(b) for b in batches)
    get_run_logger().warning("boom <b>not bold</b>: loaded %s rows", total)
    return total


@task(name="inner-task")
def inner_task(x: int) -> int:
    return x + 1


@flow(name="child-flow", flow_run_name="child-subflow")
def child(x: int) -> int:
    get_run_logger().info("the subflow runs")
    return inner_task(x)


@flow(name="etl-flow", log_prints=True)
def etl(n: int, label: str = "x", mode: Mode = Mode.fast, extra: dict | None = None) -> int:
    """Loads the nightly batch."""
    print("hello from the flow")
    get_run_logger().info("label %s, mode %s", label, mode.value)
    rows = extract(n)
    batches = [transform.submit(rows, f) for f in (1, 2, 3)]
    total = load([b.result() for b in batches])
    child(total)
    create_markdown_artifact(key="report", markdown=REPORT, description="Nightly report")
    create_table_artifact(
        key="rows", table=[{"city": "Oslo", "rows": 3}, {"city": "Lima", "rows": 4}]
    )
    return total


@flow(name="failing-flow", flow_run_name="failing-run")
def failing() -> None:
    get_run_logger().info("about to fail")
    raise ValueError("bad row")


@flow(name="hostile-flow")
def hostile() -> None:
    get_run_logger().info("a run named like markup")


def run_id(state) -> str:
    return str(state.state_details.flow_run_id)


async def worker_and_limit() -> None:
    async with get_client() as client:
        await client.send_worker_heartbeat(POOL, "worker-1", heartbeat_interval_seconds=30)
        await client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name="warehouse-writes", limit=3)
        )


if __name__ == "__main__":
    made = {}
    with tags("ui-test", "blue"):
        state = etl.with_options(flow_run_name="nightly-load")(n=7, return_state=True)
    assert state.is_completed(), state
    made["completed_id"] = run_id(state)
    with tags("ui-test"), contextlib.suppress(ValueError):
        state = failing(return_state=True)
    made["failed_id"] = run_id(state)
    made["hostile_id"] = run_id(hostile.with_options(flow_run_name=HOSTILE)(return_state=True))

    deployment_id = etl.to_deployment(
        name="nightly",
        schedule=Cron("0 9 * * *", timezone="America/New_York"),
        parameters={"n": 5},
        work_pool_name=POOL,
        tags=["nightly"],
        description="Loads the <b>nightly</b> batch",
        version="v1",
        concurrency_limit=2,
    ).apply()
    made["deployment_id"] = str(deployment_id)
    waiting = run_deployment(
        "etl-flow/nightly", flow_run_name="cancel-me-please", parameters={"n": 1}, timeout=0
    )
    made["cancel_id"] = str(waiting.id)

    asyncio.run(worker_and_limit())
    Variable.set("batch_size", {"rows": 500}, tags=["etl"])
    print(json.dumps(made))
    sys.exit(0)
