"""`flow.from_source(<dir>, entrypoint).deploy(work_pool_name=...)` (surface S4)."""

import json
import sys
from pathlib import Path

from prefect import flow

if __name__ == "__main__":
    pool, entrypoint, name = sys.argv[1], sys.argv[2], sys.argv[3]
    source = Path(__file__).parent / "worker_source"
    deployment_id = flow.from_source(str(source), entrypoint).deploy(
        name=name,
        work_pool_name=pool,
        parameters={"x": 21} if entrypoint.endswith(":wf") else {},
        print_next_steps=False,
    )
    print(json.dumps({"deployment_id": str(deployment_id)}))
