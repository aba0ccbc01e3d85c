"""Data for the CLI tests: a flow that logs at several levels and completes, then one that
fails. Prints {"completed": run id, "failed": run id} as its last line."""

import json

from prefect import flow, get_run_logger, task


@task
def shout(word: str) -> None:
    get_run_logger().warning("task says %s", word)


@flow(name="cli-greeter")
def greeter() -> None:
    logger = get_run_logger()
    logger.info("first greeting line")
    shout("hello")
    logger.error("greeter error line")
    logger.info("last greeting line")


@flow(name="cli-breaker")
def breaker() -> None:
    get_run_logger().info("about to break")
    raise ValueError("broken on purpose")


if __name__ == "__main__":
    completed = greeter(return_state=True)
    failed = breaker(return_state=True)
    print(
        json.dumps(
            {
                "completed": str(completed.state_details.flow_run_id),
                "failed": str(failed.state_details.flow_run_id),
            }
        )
    )
