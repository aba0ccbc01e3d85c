"""A flow that fails once and is retried by the server (AwaitingRetry, WAIT, COMPLETED)."""

import json

from prefect import flow
from prefect.runtime import flow_run

RUNS: list[str] = []


@flow(retries=1, retry_delay_seconds=1)
def retried() -> str:
    RUNS.append(str(flow_run.id))
    if flow_run.run_count == 1:
        raise ValueError("first attempt fails")
    return "second attempt"


if __name__ == "__main__":
    print(json.dumps({"result": retried(), "flow_run_id": RUNS[0]}))
