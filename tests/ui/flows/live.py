"""A flow that stays running and talks: for the live-page tests and bench/ui_soak.py.

It logs "first live line"; waits for the file --go (if given); logs "second <i>live</i>
line" and --burst numbered lines; then, until the file --stop appears or --seconds pass
(whichever comes first, when given),
logs --rate lines a second, runs a small task every --task-every seconds (task-run state
changes for the timeline) and, with --subflow-every, a small subflow (new runs for the runs
list)."""

import argparse
import time
from pathlib import Path

from prefect import flow, get_run_logger, task


@task(name="tick")
def tick(i: int) -> int:
    get_run_logger().info("tick %s", i)
    return i


@flow(name="blip")
def blip(i: int) -> int:
    get_run_logger().info("blip %s", i)
    return i


@flow(name="live-flow")
def live(
    go: str = "",
    burst: int = 0,
    rate: float = 0,
    stop: str = "",
    seconds: float = 0,
    task_every: float = 5,
    subflow_every: float = 0,
) -> None:
    logger = get_run_logger()
    logger.info("first live line")
    while go and not Path(go).exists():
        time.sleep(0.05)
    logger.warning("second <i>live</i> line")
    for i in range(burst):
        logger.info("burst line %s of %s", i, burst)
    end = time.monotonic() + seconds if seconds else float("inf")
    next_task = next_subflow = time.monotonic()
    line = 0
    # Without --stop or --seconds the flow ends here.
    while (stop or seconds) and time.monotonic() < end and not (stop and Path(stop).exists()):
        now = time.monotonic()
        if now >= next_task:
            tick(line)
            next_task = now + task_every
        if subflow_every and now >= next_subflow:
            blip(line)
            next_subflow = now + subflow_every
        for _ in range(int(rate)):
            logger.info("steady line %s", line)
            line += 1
        time.sleep(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("--go", default="")
    parser.add_argument("--burst", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0)
    parser.add_argument("--stop", default="")
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--task-every", type=float, default=5)
    parser.add_argument("--subflow-every", type=float, default=0)
    args = parser.parse_args()
    live.with_options(flow_run_name=args.name)(
        go=args.go,
        burst=args.burst,
        rate=args.rate,
        stop=args.stop,
        seconds=args.seconds,
        task_every=args.task_every,
        subflow_every=args.subflow_every,
    )
