"""A flow that makes a flow-level and a task-level markdown artifact."""

import json

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

RUNS: list[str] = []


@task
def report_task() -> None:
    create_markdown_artifact(key="task-report", markdown="# Task\n\n*done*")


@flow
def reporting() -> None:
    RUNS.append(str(flow_run.id))
    create_markdown_artifact(
        key="flow-report", markdown="# Flow\n\nAll good.", description="The flow's report"
    )
    report_task()


if __name__ == "__main__":
    reporting()
    print(json.dumps({"flow_run_id": RUNS[0]}))
