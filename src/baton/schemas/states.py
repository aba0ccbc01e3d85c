"""States on the wire: what a client proposes, and the set_state body."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from baton.orchestration.states import StateType
from baton.schemas.base import Request


class StateDetails(BaseModel):
    """The known keys are type-checked; keys a newer client adds are kept as they are."""

    model_config = ConfigDict(extra="allow")

    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None
    child_flow_run_id: uuid.UUID | None = None
    scheduled_time: dt.datetime | None = None
    cache_key: str | None = None
    cache_expiration: dt.datetime | None = None
    deferred: bool | None = None
    untrackable_result: bool = False
    pause_timeout: dt.datetime | None = None
    pause_reschedule: bool = False
    pause_key: str | None = None
    run_input_keyset: dict[str, str] | None = None
    refresh_cache: bool | None = None
    retriable: bool | None = None
    transition_id: uuid.UUID | None = None
    task_parameters_id: uuid.UUID | None = None
    traceparent: str | None = None
    deployment_concurrency_lease_id: uuid.UUID | None = None


class StateCreate(Request):
    type: StateType
    name: Annotated[str, StringConstraints(max_length=100)] | None = None
    message: Annotated[str, StringConstraints(max_length=100_000)] | None = None
    state_details: StateDetails = Field(default_factory=StateDetails)
    # Opaque to the server: usually null, or a result record the client wrote.
    data: Any = None

    def details_json(self) -> dict[str, Any]:
        """The details as JSON-ready values (timestamps as ISO text), utc-normalised."""
        return _utc_z(self.state_details.model_dump(mode="json"))


class SetStateBody(Request):
    state: StateCreate
    force: bool = False


def _utc_z(details: dict[str, Any]) -> dict[str, Any]:
    for key, value in details.items():
        if isinstance(value, str) and key in _TIME_KEYS:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            details[key] = parsed.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return details


_TIME_KEYS = {"scheduled_time", "cache_expiration", "pause_timeout"}
