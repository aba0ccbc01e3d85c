"""State types, their default names, and the state-details document every state carries."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class StateType(StrEnum):
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    CRASHED = "CRASHED"
    PAUSED = "PAUSED"
    CANCELLING = "CANCELLING"


TERMINAL = frozenset(
    {StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED}
)

DEFAULT_NAMES = {
    StateType.SCHEDULED: "Scheduled",
    StateType.PENDING: "Pending",
    StateType.RUNNING: "Running",
    StateType.COMPLETED: "Completed",
    StateType.FAILED: "Failed",
    StateType.CANCELLED: "Cancelled",
    StateType.CRASHED: "Crashed",
    StateType.PAUSED: "Paused",
    StateType.CANCELLING: "Cancelling",
}

# Every key of a state's details, as the client's schema lists them; stored filled in,
# so reads never have to.
DETAIL_KEYS = (
    "flow_run_id",
    "task_run_id",
    "child_flow_run_id",
    "scheduled_time",
    "cache_key",
    "cache_expiration",
    "deferred",
    "untrackable_result",
    "pause_timeout",
    "pause_reschedule",
    "pause_key",
    "run_input_keyset",
    "refresh_cache",
    "retriable",
    "transition_id",
    "task_parameters_id",
    "traceparent",
    "deployment_concurrency_lease_id",
)
_DETAIL_DEFAULTS: dict[str, Any] = dict.fromkeys(DETAIL_KEYS)
_DETAIL_DEFAULTS["untrackable_result"] = False
_DETAIL_DEFAULTS["pause_reschedule"] = False


def full_details(details: dict[str, Any] | None, **overrides: Any) -> dict[str, Any]:
    """`details` with every known key present (unknown keys kept), then `overrides` applied."""
    filled = {**_DETAIL_DEFAULTS, **(details or {})}
    filled.update(overrides)
    return filled
