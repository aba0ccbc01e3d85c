"""Handlers built once per route (baton.api.compiled) answer exactly as FastAPI's own.

Each request below is sent twice to the same app: once as it runs (compiled handlers), once
with a dependency override in place, which sends every route back to FastAPI's handler.
The two answers must be the same, for good requests and for each way a request goes wrong.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI

JSON = {"content-type": "application/json"}
RUNNING = b'{"state": {"type": "RUNNING"}}'


def _unused() -> None:
    return None


@contextmanager
def fastapi_handlers(app: FastAPI) -> Iterator[None]:
    app.dependency_overrides[_unused] = _unused
    try:
        yield
    finally:
        app.dependency_overrides.clear()


@contextmanager
def counting_solver(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths of the requests FastAPI's dependency solver ran for."""
    solved: list[str] = []
    original = fastapi.routing.solve_dependencies

    async def counted(*args: Any, **kwargs: Any) -> Any:
        solved.append(kwargs["request"].url.path)
        return await original(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    yield solved


def _answer(response: httpx.Response) -> tuple[int, Any]:
    if not response.content:
        return response.status_code, None
    return response.status_code, response.json()


async def _both(
    client: httpx.AsyncClient, app: FastAPI, method: str, url: str, **kw: Any
) -> tuple[int, Any]:
    compiled = _answer(await client.request(method, url, **kw))
    with fastapi_handlers(app):
        theirs = _answer(await client.request(method, url, **kw))
    assert compiled == theirs, f"{method} {url} {kw}"
    return compiled


async def test_hot_routes_skip_fastapis_solver(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the `compiled` fast path, the hot routes never reach FastAPI's dependency
    solver; with it off, every one of them does."""
    flow = (await client.post("/api/flows/", json={"name": "f"})).json()
    with counting_solver(monkeypatch) as solved:
        run = await client.post("/api/flow_runs/", json={"flow_id": flow["id"]})
        run_id = run.json()["id"]
        state = {"state": {"type": "RUNNING"}}
        assert (await client.post(f"/api/flow_runs/{run_id}/set_state", json=state)).is_success
        assert (await client.get(f"/api/flow_runs/{run_id}")).is_success
        logs = [{"name": "x", "level": 20, "message": "m", "timestamp": "2026-01-01T00:00:00Z"}]
        assert (await client.post("/api/logs/", json=logs)).status_code == 201
        assert (await client.post("/api/flow_runs/filter")).is_success
    if "compiled" in app.state.fast_paths:
        assert solved == []
    else:
        assert solved == [
            "/api/flow_runs/",
            f"/api/flow_runs/{run_id}/set_state",
            f"/api/flow_runs/{run_id}",
            "/api/logs/",
            "/api/flow_runs/filter",
        ]
    solved.clear()
    # A route of another shape (answering None) goes through FastAPI's solver either way.
    assert (await client.delete(f"/api/flow_runs/{run_id}")).status_code == 204
    assert solved == [f"/api/flow_runs/{run_id}"]


async def test_answers_match_fastapis(client: httpx.AsyncClient, app: FastAPI) -> None:
    flow = (await client.post("/api/flows/", json={"name": "f"})).json()
    run = (await client.post("/api/flow_runs/", json={"flow_id": flow["id"]})).json()
    set_state = f"/api/flow_runs/{run['id']}/set_state"
    cases: list[tuple[str, str, dict[str, Any]]] = [
        # good requests whose answers do not change when repeated
        ("GET", f"/api/flows/{flow['id']}", {}),
        ("POST", "/api/flows/", {"json": {"name": "f"}}),
        ("POST", set_state, {"json": {"state": {"type": "PENDING"}}}),
        ("POST", "/api/flow_runs/count", {}),
        ("POST", "/api/logs/", {"json": []}),
        # path parameters
        ("GET", "/api/flow_runs/not-a-uuid", {}),
        ("GET", f"/api/flow_runs/{uuid.uuid4()}", {}),
        ("POST", "/api/flow_runs/nope/set_state", {"json": {"state": {"type": "RUNNING"}}}),
        ("POST", "/api/flow_runs/nope/set_state", {"json": {"state": {"type": "BOGUS"}}}),
        # bodies: missing, malformed, of the wrong type or content type
        ("POST", set_state, {}),
        ("POST", set_state, {"content": b'{"state": ', "headers": JSON}),
        ("POST", set_state, {"content": b"\xff\xfe", "headers": JSON}),
        ("POST", set_state, {"content": RUNNING}),
        (
            "POST",
            set_state,
            {"content": RUNNING, "headers": {"content-type": "text/json"}},
        ),
        (
            "POST",
            set_state,
            {  # parsed as JSON (and refused for its state type, so it can be sent twice)
                "content": b'{"state": {"type": "BOGUS"}}',
                "headers": {"content-type": "application/vnd.baton+json; charset=utf-8"},
            },
        ),
        ("POST", set_state, {"json": []}),
        ("POST", set_state, {"json": {"state": {"type": 7}, "force": "maybe"}}),
        ("POST", set_state, {"content": b'{"state": {"type": "RUNNING", "n": 1e999999}}'}),
        ("POST", "/api/flow_runs/", {"json": {"flow_id": flow["id"], "n": 2**70}}),
        ("POST", "/api/flow_runs/", {"json": {"flow_id": str(uuid.uuid4())}}),
        ("POST", "/api/flows/", {"json": {"name": "a\u0000b", "tags": "x"}}),
        ("POST", "/api/flow_runs/filter", {"json": {"limit": "many"}}),
        ("POST", "/api/flows/filter", {"content": b"", "headers": JSON}),
        ("POST", "/api/logs/", {"json": [{"level": "loud"}]}),
        ("POST", "/api/logs/", {"content": b"[", "headers": JSON}),
    ]
    statuses = [(await _both(client, app, method, url, **kw))[0] for method, url, kw in cases]
    assert 422 in statuses
    assert 404 in statuses
    assert all(status < 500 for status in statuses)
