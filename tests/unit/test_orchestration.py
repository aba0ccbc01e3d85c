"""The orchestration rules, exhaustively: every current state by every proposed state, and
each special case of the compat surface §7.1."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from baton.orchestration.rules import (
    Decision,
    DeploymentLimit,
    ProposedState,
    Run,
    Status,
    decide_flow_run,
    decide_task_run,
    enforce_deployment_limit,
    format_time,
)
from baton.orchestration.states import DEFAULT_NAMES, StateType

NOW = dt.datetime(2026, 11, 27, 12, 0, 0, tzinfo=dt.UTC)
ALL = list(StateType)


def propose(kind: StateType, name: str | None = None, **details: object) -> ProposedState:
    return ProposedState(kind, name or DEFAULT_NAMES[kind], "msg", dict(details))


def run(kind: StateType | None, name: str | None = None, **kw: object) -> Run:
    return Run(state_type=kind, state_name=name or (DEFAULT_NAMES[kind] if kind else None), **kw)  # type: ignore[arg-type]


def expected_flow_status(current: StateType | None, proposed: StateType) -> Status:
    """The table of §7.1 for runs with no retries, no scheduled time and no result."""
    if current == StateType.CANCELLING and proposed != StateType.CANCELLED:
        return Status.REJECT
    if current == StateType.SCHEDULED and proposed == StateType.CANCELLING:
        return Status.REJECT  # substituted by CANCELLED
    if proposed == StateType.PENDING and current in (
        StateType.PENDING,
        StateType.RUNNING,
        StateType.CANCELLING,
        StateType.CANCELLED,
    ):
        return Status.ABORT
    return Status.ACCEPT


@pytest.mark.parametrize(("current", "proposed"), list(itertools.product([None, *ALL], ALL)))
def test_every_transition(current: StateType | None, proposed: StateType) -> None:
    decision = decide_flow_run(run(current), propose(proposed), NOW)
    assert decision.status == expected_flow_status(current, proposed)
    if decision.status == Status.ACCEPT:
        assert decision.state == propose(proposed)
        assert decision.details() == {"type": "accept_details"}
    # force accepts everything, as proposed.
    forced = decide_flow_run(run(current), propose(proposed), NOW, force=True)
    assert (forced.status, forced.state) == (Status.ACCEPT, propose(proposed))


def test_pending_after_pending_aborts_with_the_reference_wording() -> None:
    decision = decide_flow_run(run(StateType.PENDING), propose(StateType.PENDING), NOW)
    assert decision == Decision(
        Status.ABORT,
        None,
        "This run is in a PENDING state and cannot transition to a PENDING state.",
    )
    assert not decision.written
    assert decision.details()["type"] == "abort_details"
    running = decide_flow_run(run(StateType.RUNNING), propose(StateType.PENDING), NOW)
    assert (
        running.reason == "This run is in a RUNNING state and cannot transition to a PENDING state."
    )


def test_submitting_is_accepted_once() -> None:
    first = decide_flow_run(run(StateType.PENDING), propose(StateType.PENDING, "Submitting"), NOW)
    assert first.status == Status.ACCEPT
    again = decide_flow_run(
        run(StateType.PENDING, "Submitting"), propose(StateType.PENDING, "Submitting"), NOW
    )
    assert again.status == Status.ABORT
    from_running = decide_flow_run(
        run(StateType.RUNNING), propose(StateType.PENDING, "Submitting"), NOW
    )
    assert from_running.status == Status.ABORT


@pytest.mark.parametrize("current", [StateType.SCHEDULED, StateType.PENDING])
def test_running_before_the_scheduled_time_waits_whole_seconds(current: StateType) -> None:
    later = NOW + dt.timedelta(seconds=3, milliseconds=200)
    decision = decide_flow_run(
        run(current, state_details={"scheduled_time": format_time(later)}),
        propose(StateType.RUNNING),
        NOW,
    )
    assert decision.status == Status.WAIT
    assert decision.state is None
    assert decision.details() == {
        "type": "wait_details",
        "delay_seconds": 4,
        "reason": "Scheduled time is in the future",
    }


def test_an_hour_ahead_waits_3600() -> None:
    scheduled = format_time(NOW + dt.timedelta(hours=1))
    decision = decide_flow_run(
        run(StateType.SCHEDULED, state_details={"scheduled_time": scheduled}),
        propose(StateType.RUNNING),
        NOW,
    )
    assert decision.delay_seconds == 3600


def test_due_or_past_scheduled_time_runs() -> None:
    for scheduled in (NOW, NOW - dt.timedelta(seconds=30)):
        decision = decide_flow_run(
            run(StateType.SCHEDULED, state_details={"scheduled_time": format_time(scheduled)}),
            propose(StateType.RUNNING),
            NOW,
        )
        assert decision.status == Status.ACCEPT


def test_scheduled_time_is_carried_into_pending_states() -> None:
    scheduled = format_time(NOW + dt.timedelta(seconds=5))
    pending = decide_flow_run(
        run(StateType.SCHEDULED, state_details={"scheduled_time": scheduled}),
        propose(StateType.PENDING),
        NOW,
    )
    assert pending.state is not None
    assert pending.state.details["scheduled_time"] == scheduled
    submitting = decide_flow_run(
        run(StateType.PENDING, state_details=pending.state.details),
        propose(StateType.PENDING, "Submitting"),
        NOW,
    )
    assert submitting.state is not None
    assert submitting.state.details["scheduled_time"] == scheduled
    # ... so RUNNING from Submitting still waits for it.
    wait = decide_flow_run(
        run(StateType.PENDING, "Submitting", state_details=submitting.state.details),
        propose(StateType.RUNNING),
        NOW,
    )
    assert (wait.status, wait.delay_seconds) == (Status.WAIT, 5)


def test_failure_with_retries_left_is_rescheduled() -> None:
    failed = ProposedState(StateType.FAILED, "Failed", "boom", {}, {"storage_key": "k"})
    decision = decide_flow_run(
        run(StateType.RUNNING, run_count=1, retries=1, retry_delay=2), failed, NOW
    )
    assert decision.status == Status.REJECT
    assert decision.written
    assert decision.reason == "Retrying"
    assert decision.details() == {"type": "reject_details", "reason": "Retrying"}
    assert decision.state == ProposedState(
        StateType.SCHEDULED,
        "AwaitingRetry",
        "boom",
        {"scheduled_time": format_time(NOW + dt.timedelta(seconds=2))},
        {"storage_key": "k"},
    )
    assert decision.policy_updates == {"retry_type": "in_process"}


def test_failure_without_retries_left_is_accepted() -> None:
    decision = decide_flow_run(
        run(StateType.RUNNING, run_count=2, retries=1), propose(StateType.FAILED), NOW
    )
    assert decision.status == Status.ACCEPT


def test_cancelling_a_scheduled_run_cancels_it() -> None:
    decision = decide_flow_run(run(StateType.SCHEDULED), propose(StateType.CANCELLING), NOW)
    assert decision.status == Status.REJECT
    assert decision.state is not None
    assert (decision.state.type, decision.state.name) == (StateType.CANCELLED, "Cancelled")
    assert decision.reason == "Scheduled flow run has no infrastructure to terminate."


def test_cancelling_only_moves_to_cancelled() -> None:
    decision = decide_flow_run(run(StateType.CANCELLING), propose(StateType.COMPLETED), NOW)
    assert (decision.status, decision.state) == (Status.REJECT, None)
    assert decision.reason == (
        "Cannot transition flows that are cancelling to a state other than Cancelled."
    )
    done = decide_flow_run(run(StateType.CANCELLING), propose(StateType.CANCELLED), NOW)
    assert done.status == Status.ACCEPT


def test_completed_with_a_persisted_result_is_final() -> None:
    finished = run(StateType.COMPLETED, state_data={"storage_key": "x"})
    assert decide_flow_run(finished, propose(StateType.RUNNING), NOW).status == Status.ABORT
    # Without a persisted result (ad-hoc runs), the reference accepts a re-run.
    assert decide_flow_run(run(StateType.COMPLETED), propose(StateType.RUNNING), NOW).status == (
        Status.ACCEPT
    )


@pytest.mark.parametrize(("current", "proposed"), list(itertools.product([None, *ALL], ALL)))
def test_task_runs_follow_only_the_pending_rule(
    current: StateType | None, proposed: StateType
) -> None:
    decision = decide_task_run(run(current), propose(proposed), NOW)
    pending_blocked = proposed == StateType.PENDING and current in (
        StateType.PENDING,
        StateType.RUNNING,
        StateType.CANCELLING,
        StateType.CANCELLED,
    )
    assert decision.status == (Status.ABORT if pending_blocked else Status.ACCEPT)


def test_task_runs_wait_for_their_scheduled_time() -> None:
    later = format_time(NOW + dt.timedelta(seconds=1))
    decision = decide_task_run(
        run(StateType.SCHEDULED, state_details={"scheduled_time": later}),
        propose(StateType.RUNNING),
        NOW,
    )
    assert decision.status == Status.WAIT


# --- deployment concurrency -------------------------------------------------------------------


def _start(run: Run) -> tuple[Decision, dt.datetime]:
    now = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    proposed = ProposedState(StateType.PENDING, "Pending")
    return decide_flow_run(run, proposed, now), now


def test_a_start_within_the_deployment_limit_is_accepted() -> None:
    run = Run(state_type=StateType.SCHEDULED)
    decision, now = _start(run)
    assert enforce_deployment_limit(run, decision, DeploymentLimit(2, 1), now) is decision
    assert enforce_deployment_limit(run, decision, None, now) is decision


def test_a_start_beyond_the_limit_waits_for_a_slot() -> None:
    run = Run(state_type=StateType.SCHEDULED)
    decision, now = _start(run)
    held = enforce_deployment_limit(run, decision, DeploymentLimit(2, 2), now)
    assert held.status == Status.REJECT
    assert held.state is not None
    assert (held.state.type, held.state.name) == (StateType.SCHEDULED, "AwaitingConcurrencySlot")
    assert held.state.details["scheduled_time"] == "2026-11-27T12:00:30Z"
    assert held.details() == {"type": "reject_details", "reason": held.reason}
    assert "(2)" in (held.reason or "")


def test_cancel_new_cancels_a_start_beyond_the_limit() -> None:
    run = Run(state_type=StateType.SCHEDULED)
    decision, now = _start(run)
    held = enforce_deployment_limit(run, decision, DeploymentLimit(1, 3, "CANCEL_NEW"), now)
    assert held.status == Status.REJECT
    assert held.state is not None
    assert held.state.type == StateType.CANCELLED


def test_only_starts_take_slots() -> None:
    now = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    full = DeploymentLimit(1, 5)
    pending = Run(state_type=StateType.PENDING, state_name="Pending")
    submitting = decide_flow_run(pending, ProposedState(StateType.PENDING, "Submitting"), now)
    assert enforce_deployment_limit(pending, submitting, full, now) is submitting
    running = decide_flow_run(pending, ProposedState(StateType.RUNNING, "Running"), now)
    assert enforce_deployment_limit(pending, running, full, now) is running
