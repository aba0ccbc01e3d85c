"""A flow of many small tasks (default 1,000): every one must be recorded."""

import json
import sys

from prefect import flow, task
from prefect.runtime import flow_run

RUNS: list[str] = []


@task
def square(i: int) -> int:
    return i * i


@flow
def many(n: int) -> int:
    RUNS.append(str(flow_run.id))
    return sum(f.result() for f in square.map(range(n)))


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(json.dumps({"result": many(n), "flow_run_id": RUNS[0]}))
