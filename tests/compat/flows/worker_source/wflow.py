"""Flows a process worker runs from this directory (`flow.from_source(...)`)."""

import time

from prefect import flow, get_run_logger, task


@task
def double(x: int) -> int:
    return x * 2


@flow(name="wf")
def wf(x: int = 1) -> int:
    result = double(x)
    get_run_logger().info("worker flow computed %s", result)
    return result


@flow(name="slow")
def slow(seconds: float = 120) -> None:
    get_run_logger().info("slow flow started")
    time.sleep(seconds)
