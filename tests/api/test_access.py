"""Access control over every route of the app: each refuses a missing, a wrong, an expired
and a revoked credential, and lets each persona (admin, developer, worker, viewer) do
exactly what its role allows; the websockets check the token of their auth frame."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from baton.clock import utcnow
from baton.core.api_keys import create_key, revoke_key
from baton.security.roles import PUBLIC, Role, allowed
from baton.server.app import create_app
from baton.settings import Settings
from tests.api.test_bad_input import api_routes

PARAM = re.compile(r"{(\w+)}")
PERSONAS = [Role.ADMIN, Role.DEVELOPER, Role.WORKER, Role.VIEWER]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(auth_mode="keys")


@pytest.fixture
async def keys(app: FastAPI) -> dict[str, str]:
    db = app.state.db
    made = {role.value: (await create_key(db, role.value, role))["key"] for role in PERSONAS}
    made["expired"] = (await create_key(db, "old", Role.ADMIN, utcnow() - dt.timedelta(1)))["key"]
    revoked = await create_key(db, "gone", Role.ADMIN)
    await revoke_key(db, revoked["id"])
    made["revoked"] = revoked["key"]
    made["wrong"] = "baton_" + "x" * 43
    return made


def concrete(template: str) -> str:
    """A request path for a route template: any value will do (the answer may be 404)."""
    return PARAM.sub(lambda m: str(uuid.UUID(int=7)) if "id" in m.group(1) else "x", template)


async def status(client: httpx.AsyncClient, method: str, path: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = b"{}" if method in ("POST", "PATCH", "PUT") else None
    response = await client.request(method, path, content=body, headers=headers)
    return response.status_code


async def test_every_route_checks_credentials_and_roles(
    client: httpx.AsyncClient, app: FastAPI, keys: dict[str, str]
) -> None:
    routes = [(m, t) for m, t in api_routes(app) if m != "HEAD"]
    assert len(routes) > 100, routes
    problems = []
    for method, template in routes:
        path = concrete(template)
        public = template in PUBLIC
        for credential in (None, "wrong", "expired", "revoked"):
            got = await status(client, method, path, keys.get(credential or ""))
            if not public and got != 401:
                problems.append(f"{method} {template} with {credential} credentials -> {got}")
        # Independent of the matrix's code: a viewer may never change anything.
        query = method == "GET" or template.endswith(("/filter", "/count", "/paginate"))
        if not public and not query:
            got = await status(client, method, path, keys["viewer"])
            if got != 403:
                problems.append(f"{method} {template} as a viewer -> {got}, expected 403")
        for role in PERSONAS:
            got = await status(client, method, path, keys[role.value])
            expected_refusal = not allowed(role, method, template)
            if expected_refusal and got != 403:
                problems.append(f"{method} {template} as {role} -> {got}, expected 403")
            if not expected_refusal and got in (401, 403):
                problems.append(f"{method} {template} as {role} -> {got}, expected to pass")
    assert not problems, "\n".join(problems)


def test_the_role_matrix() -> None:
    """Spot checks of what each role may do (the full walk above holds routes to it)."""
    write_run = ("POST", "/api/flow_runs/{run_id}/set_state")
    delete_deployment = ("DELETE", "/api/deployments/{deployment_id}")
    query = ("POST", "/api/flow_runs/filter")
    for role in PERSONAS:
        assert allowed(role, *query)
        assert allowed(role, "GET", "/api/health")
    assert allowed(Role.WORKER, *write_run)
    assert not allowed(Role.VIEWER, *write_run)
    assert not allowed(Role.WORKER, *delete_deployment)
    assert allowed(Role.DEVELOPER, *delete_deployment)
    assert not allowed(Role.DEVELOPER, "GET", "/api/audit")
    assert allowed(Role.ADMIN, "GET", "/api/audit")


async def test_refusals_are_clear(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    missing = await client.post("/api/flows/filter", json={})
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "PREFECT_API_KEY" in missing.json()["detail"]
    assert (await client.get("/api/health")).status_code == 200
    assert (await client.get("/api/admin/version")).status_code == 200
    viewer = {"Authorization": f"Bearer {keys['viewer']}"}
    refused = await client.post("/api/flows/", json={"name": "f"}, headers=viewer)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Forbidden: the viewer role may not POST /api/flows/."


async def test_mutating_calls_are_audited(
    client: httpx.AsyncClient, app: FastAPI, keys: dict[str, str]
) -> None:
    developer = {"Authorization": f"Bearer {keys['developer']}"}
    created = await client.post("/api/flows/", json={"name": "audited"}, headers=developer)
    assert created.status_code == 201
    await client.post("/api/flows/filter", json={}, headers=developer)  # a read: not audited
    await client.post("/api/flows/", json={"name": "x"})  # refused: audited too
    await app.state.audit.flush()
    from baton.core.audit import list_audit

    entries = await list_audit(app.state.db)
    assert [(e["actor"], e["action"], e["status"]) for e in entries] == [
        ("unauthenticated", "POST /api/flows/", 401),
        ("developer", "POST /api/flows/", 201),
    ]
    assert entries[1]["role"] == "developer"
    assert entries[1]["object"] == "/api/flows/"
    assert entries[1]["source"]


async def test_security_headers(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    api = await client.get("/api/health")
    assert api.headers["x-content-type-options"] == "nosniff"


async def _auth_frame(url: str, token: str | None) -> tuple[str, Any]:
    """Open a websocket, send the auth frame; ("ok", reply) or ("closed", (code, reason))."""
    async with connect(url, subprotocols=[Subprotocol("prefect")]) as ws:
        await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
        try:
            return "ok", orjson.loads(await ws.recv())
        except ConnectionClosed as closed:
            frame = closed.rcvd
            return "closed", (frame.code, frame.reason) if frame else None


async def test_websockets_check_their_auth_frame(
    ws_api: str,
    keys: dict[str, str],
) -> None:
    events_in, events_out = f"{ws_api}/events/in", f"{ws_api}/events/out"
    channel = f"{ws_api}/work_pools/p1/workers/connect"
    success = ("ok", {"type": "auth_success"})
    # The client sends no token to /events/in under API keys (surface §5): accepted.
    assert await _auth_frame(events_in, None) == success
    assert await _auth_frame(events_in, keys["worker"]) == success
    assert await _auth_frame(events_in, keys["wrong"]) == ("closed", (1008, "Invalid token"))
    assert await _auth_frame(events_in, keys["revoked"]) == ("closed", (1008, "Invalid token"))
    assert (await _auth_frame(events_in, keys["viewer"]))[0] == "closed"
    assert await _auth_frame(events_out, keys["viewer"]) == success
    refused = ("closed", (1008, "Auth required but no token provided"))
    assert await _auth_frame(events_out, None) == refused
    failed = ("closed", (1008, "authentication_failed"))
    assert await _auth_frame(channel, None) == failed
    assert await _auth_frame(channel, keys["expired"]) == failed
    assert await _auth_frame(channel, keys["viewer"]) == failed
    assert await _auth_frame(channel, keys["worker"]) == success


@pytest.fixture
async def basic_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.with_overrides(auth_mode="basic", auth_string="admin:s3cret"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://baton") as client:
            yield client


async def test_basic_auth_like_the_reference(basic_client: httpx.AsyncClient) -> None:
    def basic(secret: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(secret.encode()).decode()}

    ok = await basic_client.post("/api/flows/filter", json={}, headers=basic("admin:s3cret"))
    assert ok.status_code == 200
    for headers in (
        {},
        basic("admin:wrong"),
        {"Authorization": "Bearer admin:s3cret"},
        {"Authorization": "Basic !!!"},
    ):
        refused = await basic_client.post("/api/flows/filter", json={}, headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["www-authenticate"] == "Basic"
    assert (await basic_client.get("/api/ready")).status_code == 200
