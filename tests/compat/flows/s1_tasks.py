"""Three concurrent tasks, a run logger, log_prints, parameters and a return value."""

import json
import sys

from prefect import flow, get_run_logger, task


@task
def add(x: int, y: int) -> int:
    get_run_logger().info("adding %s and %s", x, y)
    return x + y


LAST_RUN: list[str] = []


def remember(flow, run, state):
    LAST_RUN.append(str(run.id))


@flow(log_prints=True, on_completion=[remember])
def my_flow(a: int, b: int, name: str) -> int:
    get_run_logger().info("hello %s", name)
    futures = [add.submit(a, b), add.submit(b, a), add.submit(a, a)]
    total = sum(f.result() for f in futures)
    print(f"total is {total}")
    return total


if __name__ == "__main__":
    result = my_flow(3, 4, "cap")
    print(json.dumps({"result": result, "flow_run_id": LAST_RUN[0]}))
    sys.exit(0)
