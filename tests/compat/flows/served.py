"""`flow.serve` with an interval schedule (surface S3): runs until SIGTERM."""

import sys

from prefect import flow, get_run_logger


@flow(name="served-flow")
def served_flow(n: int = 1) -> int:
    get_run_logger().info("served run with n=%s", n)
    return n * 2


if __name__ == "__main__":
    interval = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    served_flow.serve(name="served-dep", interval=interval, parameters={"n": 5}, tags=["cap"])
