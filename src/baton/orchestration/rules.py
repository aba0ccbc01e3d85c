"""The orchestration rules: from (run, proposed state, now) to a decision. Pure: no I/O.

The rules the reference server enforces on flow runs (compat surface §7.1):
- CANCELLING only moves on to CANCELLED (REJECT, current state kept);
- CANCELLING a SCHEDULED run cancels it at once: nothing is running to terminate;
- PENDING cannot follow PENDING, RUNNING, CANCELLING or CANCELLED (ABORT), except that a
  Pending run may become Pending/"Submitting" once (runners and workers mark launches so);
- RUNNING before the scheduled time gets WAIT for the whole seconds left;
- FAILED while retries remain becomes SCHEDULED/"AwaitingRetry" after `retry_delay`;
- COMPLETED with a persisted result cannot be left (ABORT);
- `force` skips every rule.
Task runs follow the PENDING and WAIT rules only: the client orchestrates their retries.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from baton.orchestration.states import StateType


class Status(StrEnum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    WAIT = "WAIT"
    ABORT = "ABORT"


@dataclass(frozen=True)
class ProposedState:
    type: StateType
    name: str
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    data: Any = None


@dataclass(frozen=True)
class Run:
    """What the rules need to know about a run."""

    state_type: StateType | None
    state_name: str | None = None
    state_details: dict[str, Any] = field(default_factory=dict)
    state_data: Any = None
    run_count: int = 0
    retries: int = 0
    retry_delay: float = 0.0


@dataclass(frozen=True)
class Decision:
    status: Status
    # The state to write; None when nothing is written (WAIT, ABORT, a REJECT that keeps
    # the current state).
    state: ProposedState | None
    reason: str | None = None
    delay_seconds: int | None = None
    # Changes to the run's empirical_policy that come with the decision.
    policy_updates: dict[str, Any] = field(default_factory=dict)

    @property
    def written(self) -> bool:
        return self.state is not None

    def details(self) -> dict[str, Any]:
        """The `details` document of the orchestration result."""
        if self.status == Status.ACCEPT:
            return {"type": "accept_details"}
        if self.status == Status.WAIT:
            return {
                "type": "wait_details",
                "delay_seconds": self.delay_seconds,
                "reason": self.reason,
            }
        kind = "reject_details" if self.status == Status.REJECT else "abort_details"
        return {"type": kind, "reason": self.reason}


def accept(state: ProposedState) -> Decision:
    return Decision(Status.ACCEPT, state)


_NO_PENDING_AFTER = {
    StateType.PENDING,
    StateType.RUNNING,
    StateType.CANCELLING,
    StateType.CANCELLED,
}
_SUBMITTING = "Submitting"


def decide_flow_run(
    run: Run, proposed: ProposedState, now: dt.datetime, *, force: bool = False
) -> Decision:
    proposed = _carry_scheduled_time(run, proposed)
    if force:
        return accept(proposed)
    current = run.state_type

    if current == StateType.CANCELLING and proposed.type != StateType.CANCELLED:
        return Decision(
            Status.REJECT,
            None,
            "Cannot transition flows that are cancelling to a state other than Cancelled.",
        )
    if current == StateType.SCHEDULED and proposed.type == StateType.CANCELLING:
        cancelled = ProposedState(
            StateType.CANCELLED, "Cancelled", proposed.message, proposed.details, proposed.data
        )
        return Decision(
            Status.REJECT, cancelled, "Scheduled flow run has no infrastructure to terminate."
        )
    if (pending := _pending_rule(run, proposed)) is not None:
        return pending
    if (wait := _wait_rule(run, proposed, now)) is not None:
        return wait
    if (
        proposed.type == StateType.FAILED
        and current == StateType.RUNNING
        and 0 < run.run_count <= run.retries
    ):
        return _retry(run, proposed, now)
    if (
        current == StateType.COMPLETED
        and run.state_data is not None
        and proposed.type != StateType.COMPLETED
    ):
        return Decision(
            Status.ABORT,
            None,
            "This run has already completed with a persisted result and cannot be re-run.",
        )
    return accept(proposed)


def decide_task_run(
    run: Run, proposed: ProposedState, now: dt.datetime, *, force: bool = False
) -> Decision:
    proposed = _carry_scheduled_time(run, proposed)
    if force:
        return accept(proposed)
    if (pending := _pending_rule(run, proposed)) is not None:
        return pending
    if (wait := _wait_rule(run, proposed, now)) is not None:
        return wait
    return accept(proposed)


def _pending_rule(run: Run, proposed: ProposedState) -> Decision | None:
    current = run.state_type
    if proposed.type != StateType.PENDING or current not in _NO_PENDING_AFTER:
        return None
    if (
        current == StateType.PENDING
        and run.state_name != _SUBMITTING
        and proposed.name == _SUBMITTING
    ):
        return None
    return Decision(
        Status.ABORT,
        None,
        f"This run is in a {current} state and cannot transition to a PENDING state.",
    )


def _wait_rule(run: Run, proposed: ProposedState, now: dt.datetime) -> Decision | None:
    if proposed.type != StateType.RUNNING or run.state_type not in (
        StateType.SCHEDULED,
        StateType.PENDING,
    ):
        return None
    scheduled = parse_time(run.state_details.get("scheduled_time"))
    if scheduled is None or scheduled <= now:
        return None
    delay = max(1, math.ceil((scheduled - now).total_seconds()))
    return Decision(Status.WAIT, None, "Scheduled time is in the future", delay_seconds=delay)


def _retry(run: Run, proposed: ProposedState, now: dt.datetime) -> Decision:
    scheduled = now + dt.timedelta(seconds=run.retry_delay)
    awaiting = ProposedState(
        StateType.SCHEDULED,
        "AwaitingRetry",
        proposed.message,
        {**proposed.details, "scheduled_time": format_time(scheduled)},
        proposed.data,
    )
    return Decision(
        Status.REJECT, awaiting, "Retrying", policy_updates={"retry_type": "in_process"}
    )


def _carry_scheduled_time(run: Run, proposed: ProposedState) -> ProposedState:
    """A run's scheduled time follows it from SCHEDULED into the PENDING states after it."""
    if (
        proposed.type == StateType.PENDING
        and run.state_type in (StateType.SCHEDULED, StateType.PENDING)
        and not proposed.details.get("scheduled_time")
        and run.state_details.get("scheduled_time")
    ):
        details = {**proposed.details, "scheduled_time": run.state_details["scheduled_time"]}
        return ProposedState(proposed.type, proposed.name, proposed.message, details, proposed.data)
    return proposed


def parse_time(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def format_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- deployment concurrency ------------------------------------------------------------------

# How long a run that found its deployment's slots full waits before it is tried again.
SLOT_WAIT = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class DeploymentLimit:
    """A deployment's `concurrency_limit` and how many of its other runs hold a slot."""

    limit: int
    busy: int
    collision_strategy: str = "ENQUEUE"  # or "CANCEL_NEW"


def starts_run(run: Run, decision: Decision) -> bool:
    """The decision accepts a not-yet-started run into PENDING: it would take a slot."""
    return (
        decision.status == Status.ACCEPT
        and decision.state is not None
        and decision.state.type == StateType.PENDING
        and run.state_type in (None, StateType.SCHEDULED)
    )


def enforce_deployment_limit(
    run: Run, decision: Decision, limit: DeploymentLimit | None, now: dt.datetime
) -> Decision:
    """A run about to start (SCHEDULED → PENDING accepted) needs a free slot of its
    deployment. Without one it is put back as SCHEDULED/"AwaitingConcurrencySlot" for
    `SLOT_WAIT` (ENQUEUE, the default) or CANCELLED (CANCEL_NEW)."""
    if not starts_run(run, decision) or limit is None or limit.busy < limit.limit:
        return decision
    assert decision.state is not None
    reason = f"The deployment's concurrency limit ({limit.limit}) is reached."
    if limit.collision_strategy == "CANCEL_NEW":
        cancelled = ProposedState(StateType.CANCELLED, "Cancelled", reason)
        return Decision(Status.REJECT, cancelled, reason)
    again = now + SLOT_WAIT
    details = {**decision.state.details, "scheduled_time": format_time(again)}
    waiting = ProposedState(StateType.SCHEDULED, "AwaitingConcurrencySlot", reason, details)
    return Decision(Status.REJECT, waiting, reason)
