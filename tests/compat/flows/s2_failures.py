"""A task that succeeds on retry, a subflow, then a task that always fails: the flow fails."""

import contextlib
import json

from prefect import flow, task

RUNS: dict[str, str] = {}
attempts = {"flaky": 0}


def remember(flow, run, state):
    RUNS[flow.name] = str(run.id)


@task(retries=1, retry_delay_seconds=1)
def flaky() -> str:
    attempts["flaky"] += 1
    if attempts["flaky"] == 1:
        raise ValueError("first try fails")
    return "ok"


@task
def always_fails() -> None:
    raise RuntimeError("permanent failure")


@flow(on_completion=[remember], on_failure=[remember])
def child_flow(x: int) -> int:
    return x * 2


@flow(on_completion=[remember], on_failure=[remember])
def parent_flow() -> None:
    flaky()
    child_flow(5)
    always_fails()


if __name__ == "__main__":
    with contextlib.suppress(RuntimeError):
        parent_flow()
    print(json.dumps(RUNS))
