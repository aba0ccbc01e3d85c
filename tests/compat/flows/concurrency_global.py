"""Two tasks submitted at once, each holding a slot of the global limit "gcl" while it
works; then three calls to rate_limit("rl"). Prints when each task held its slot."""

import json
import time

from prefect import flow, task
from prefect.concurrency.sync import concurrency, rate_limit


@task
def hold(n: int) -> list[float]:
    with concurrency("gcl", occupy=1, strict=True):
        start = time.time()
        time.sleep(0.5)
        return [start, time.time()]


@flow
def limited() -> dict[str, object]:
    futures = [hold.submit(n) for n in range(2)]
    spans = [future.result() for future in futures]
    began = time.time()
    for _ in range(3):
        rate_limit("rl", strict=True)
    return {"spans": spans, "rate_limited_seconds": time.time() - began}


if __name__ == "__main__":
    print(json.dumps(limited()))
