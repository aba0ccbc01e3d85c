"""A deployment with a cron schedule in New York time, applied without serving it."""

import json

from prefect import flow
from prefect.schedules import Cron


@flow(name="cron-flow")
def cron_flow(n: int, label: str = "x") -> str:
    return f"{label}{n}"


if __name__ == "__main__":
    deployment = cron_flow.to_deployment(
        name="ny-morning",
        schedule=Cron("30 9 * * 1-5", timezone="America/New_York"),
        parameters={"n": 1},
    )
    deployment_id = deployment.apply()
    print(json.dumps({"deployment_id": str(deployment_id)}))
