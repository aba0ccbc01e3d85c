"""Two tasks tagged "mytag", submitted at once: the tag's concurrency limit lets one run at a
time. Prints when each task ran and its task-run id."""

import json
import time

from prefect import flow, task
from prefect.runtime import task_run


@task(tags=["mytag", "unlimited"])
def tagged(n: int) -> dict[str, object]:
    start = time.time()
    time.sleep(0.5)
    return {"span": [start, time.time()], "task_run_id": str(task_run.id)}


@flow
def tag_limited() -> list[dict[str, object]]:
    futures = [tagged.submit(n) for n in range(2)]
    return [future.result() for future in futures]


if __name__ == "__main__":
    print(json.dumps({"runs": tag_limited()}))
