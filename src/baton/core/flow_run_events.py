"""The event every flow-run state change emits: `prefect.flow-run.<StateName>`.

Workers and runners wait for `prefect.flow-run.Cancelling` on /api/events/out to stop a
run; engines wait for `prefect.flow-run.Suspended`. The event is stored in the same
transaction as the state and published once that transaction commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from baton.events.store import new_event
from baton.schemas.events import Record


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def state_change_event(
    run: dict[str, Any] | Any,
    flow_name: str | None,
    previous: dict[str, Any] | None,
    state: dict[str, Any],
) -> Record:
    """`run` is the flow-run row before the change; `state` the state row just written."""
    run_id = run["id"]
    resource = {
        "prefect.resource.id": f"prefect.flow-run.{run_id}",
        "prefect.resource.name": run["name"],
        "prefect.run-count": str(run["run_count"]),
        "prefect.state-message": state["message"] or "",
        "prefect.state-name": state["name"],
        "prefect.state-timestamp": _iso(state["timestamp"]),
        "prefect.state-type": state["type"],
    }
    related = [
        {
            "prefect.resource.id": f"prefect.flow.{run['flow_id']}",
            "prefect.resource.role": "flow",
            **({"prefect.resource.name": flow_name} if flow_name else {}),
        }
    ]
    for role, id_key, name_key in (
        ("deployment", "deployment_id", None),
        ("work-queue", "work_queue_id", "work_queue_name"),
        ("work-pool", "work_pool_id", "work_pool_name"),
    ):
        if run.get(id_key) is not None:
            item = {
                "prefect.resource.id": f"prefect.{role}.{run[id_key]}",
                "prefect.resource.role": role,
            }
            if name_key and run.get(name_key):
                item["prefect.resource.name"] = run[name_key]
            related.append(item)
    related += [
        {"prefect.resource.id": f"prefect.tag.{tag}", "prefect.resource.role": "tag"}
        for tag in run["tags"] or []
    ]
    initial = None
    if previous is not None:
        initial = {k: previous[k] for k in ("type", "name", "message", "state_details")}
    payload = {
        "intended": {"from": previous["type"] if previous else None, "to": state["type"]},
        "initial_state": initial,
        "validated_state": {
            k: state[k] for k in ("type", "name", "message", "state_details", "data")
        },
    }
    return new_event(
        f"prefect.flow-run.{state['name']}",
        resource,
        related,
        payload,
        occurred=state["timestamp"],
    )
