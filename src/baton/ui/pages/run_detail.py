"""One flow run: header, task-run timeline, tabs (logs, task runs, subflow runs, artifacts,
parameters, state history), live regions, log download, and its actions."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from fastapi import Request
from starlette.responses import Response, StreamingResponse

from baton.clock import utcnow
from baton.core.deployment_runs import create_flow_run_from_deployment
from baton.core.flow_runs import delete_flow_run, read_flow_run_states, set_flow_run_state
from baton.errors import BatonError
from baton.orchestration.states import StateType
from baton.schemas.deployments import DeploymentFlowRunCreate
from baton.schemas.states import StateCreate
from baton.ui.charts import timeline
from baton.ui.format import ACTIVE_TYPES, LEVELS
from baton.ui.forms import read_form
from baton.ui.gate import ui_router
from baton.ui.params import parse_id
from baton.ui.queries import run_detail as q
from baton.ui.queries.common import Cursor
from baton.ui.queries.runs import cancellable
from baton.ui.rendering import page, partial, redirect
from baton.ui.state import database, event_bus

router = ui_router()
TABS = (
    ("logs", "Logs"),
    ("tasks", "Task runs"),
    ("subflows", "Subflow runs"),
    ("artifacts", "Artifacts"),
    ("parameters", "Parameters"),
    ("history", "State history"),
)
# Logs keep arriving for a little while after a run ends (clients flush in batches).
LOGS_SETTLE = dt.timedelta(seconds=15)


def _is_active(run: dict[str, Any]) -> bool:
    return run["state_type"] in ACTIVE_TYPES or run["state_type"] is None


def _logs_settled(run: dict[str, Any], now: dt.datetime) -> bool:
    stamp = run["state_timestamp"]
    return not _is_active(run) and (stamp is None or now - stamp > LOGS_SETTLE)


def _log_options(request: Request) -> tuple[int, str]:
    try:
        level = int(request.query_params.get("level", "0"))
    except ValueError:
        level = 0
    return level, request.query_params.get("q", "").strip()[:200]


async def _run(request: Request, raw_id: str) -> tuple[uuid.UUID, dict[str, Any], dt.datetime]:
    run_id = parse_id(raw_id, "Flow run")
    now = utcnow()
    async with database(request).read() as conn:
        run = await q.read_run(conn, run_id, now)
    return run_id, run, now


@router.get("/runs/{raw_id}")
async def run_page(request: Request, raw_id: str) -> Response:
    run_id = parse_id(raw_id, "Flow run")
    tab = request.query_params.get("tab", "logs")
    if tab not in dict(TABS):
        tab = "logs"
    level, text = _log_options(request)
    now = utcnow()
    db = database(request)
    context: dict[str, Any] = {}
    async with db.read() as conn:
        run = await q.read_run(conn, run_id, now)
        rows, tasks, subflows, truncated = await q.run_tree(conn, run_id, now)
        if tab == "logs":
            after = Cursor.decode(request.query_params.get("after"))
            logs, more = await q.run_logs(conn, run_id, level, text, after)
            context.update(logs=logs, more_logs=more)
        elif tab == "artifacts":
            context["artifacts"] = await q.run_artifacts(conn, run_id)
    if tab == "history":
        context["history"] = await read_flow_run_states(db, run_id)
    task_names = {task["id"]: task["name"] for task in tasks}
    context.update(
        run=run,
        tab=tab,
        tabs=TABS,
        timeline=timeline(rows, now, truncated),
        tasks=tasks,
        subflows=subflows,
        task_names=task_names,
        level=level,
        levels=LEVELS,
        text=text,
        active=_is_active(run),
        logs_live=not _logs_settled(run, now),
    )
    return page(request, "pages/run.html", context)


# --- live regions: each returns the partial its page renders -----------------------------


@router.get("/runs/{raw_id}/live/header")
async def live_header(request: Request, raw_id: str) -> Response:
    _, run, _ = await _run(request, raw_id)
    return partial(request, "partials/run_header.html", {"run": run}, done=not _is_active(run))


@router.get("/runs/{raw_id}/live/timeline")
async def live_timeline(request: Request, raw_id: str) -> Response:
    run_id = parse_id(raw_id, "Flow run")
    now = utcnow()
    async with database(request).read() as conn:
        run = await q.read_run(conn, run_id, now)
        rows, _, _, truncated = await q.run_tree(conn, run_id, now)
    context = {"timeline": timeline(rows, now, truncated)}
    return partial(request, "partials/run_timeline.html", context, done=not _is_active(run))


@router.get("/runs/{raw_id}/live/logs")
async def live_logs(request: Request, raw_id: str) -> Response:
    """Log rows after the browser's last one (only what is new)."""
    run_id = parse_id(raw_id, "Flow run")
    level, text = _log_options(request)
    after = Cursor.decode(request.query_params.get("after"))
    now = utcnow()
    async with database(request).read() as conn:
        run = await q.read_run(conn, run_id, now)
        logs, _ = await q.run_logs(conn, run_id, level, text, after)
        _, tasks, _, _ = await q.run_tree(conn, run_id, now) if logs else ([], [], [], False)
    context = {"logs": logs, "task_names": {task["id"]: task["name"] for task in tasks}}
    return partial(
        request, "partials/log_rows.html", context, done=_logs_settled(run, now) and not logs
    )


@router.get("/runs/{raw_id}/logs.txt")
async def download_logs(request: Request, raw_id: str) -> Response:
    run_id, run, _ = await _run(request, raw_id)
    filename = re.sub(r"[^A-Za-z0-9._-]+", "-", run["name"]).strip("-") or "flow-run"
    return StreamingResponse(
        q.stream_log_lines(database(request), run_id),
        media_type="text/plain; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}-logs.txt"',
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- actions ----------------------------------------------------------------------------


@router.post("/runs/{raw_id}/cancel")
async def cancel(request: Request, raw_id: str) -> Response:
    await read_form(request)
    run_id = parse_id(raw_id, "Flow run")
    async with database(request).read() as conn:
        if not await cancellable(conn, [run_id]):
            notice = "Not cancelled: the run has already finished."
            return redirect(request, f"/runs/{run_id}", notice, "error")
    result = await set_flow_run_state(
        database(request), event_bus(request), run_id, StateCreate(type=StateType.CANCELLING)
    )
    if not result.decision.written:
        reason = result.decision.reason or "the run's state does not allow it"
        return redirect(request, f"/runs/{run_id}", f"Not cancelled: {reason}", "error")
    return redirect(request, f"/runs/{run_id}", "Cancellation requested.")


@router.post("/runs/{raw_id}/delete")
async def delete(request: Request, raw_id: str) -> Response:
    await read_form(request)
    run_id = parse_id(raw_id, "Flow run")
    await delete_flow_run(database(request), run_id)
    return redirect(request, "/runs", "Flow run deleted.")


@router.post("/runs/{raw_id}/retry")
async def retry(request: Request, raw_id: str) -> Response:
    """A new run of the same deployment with the same parameters."""
    await read_form(request)
    run_id, run, _ = await _run(request, raw_id)
    if run["deployment_id"] is None:
        return redirect(
            request, f"/runs/{run_id}", "Only runs of a deployment can be retried.", "error"
        )
    tags = [tag for tag in run["tags"] if tag != "auto-scheduled"]
    body = DeploymentFlowRunCreate(parameters=run["parameters"], tags=tags)
    try:
        new, _ = await create_flow_run_from_deployment(
            database(request), event_bus(request), run["deployment_id"], body
        )
    except BatonError as exc:
        return redirect(request, f"/runs/{run_id}", f"Not retried: {exc.detail}", "error")
    return redirect(request, f"/runs/{new['id']}", f"New run {new['name']} scheduled.")
