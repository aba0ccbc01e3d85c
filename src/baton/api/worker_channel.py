"""/api/work_pools/{name}/workers/connect: the worker channel (compat surface §4.5).

With the `prefect` subprotocol: the first frame is `{"type": "auth", "token": ...}`, answered
`{"type": "auth_success"}`; then the worker's `worker.hello.v1`, answered `worker.ready.v1`
with a snapshot of its pool; then a `worker.heartbeat.v1` every interval, each stored and
not answered. The socket stays open until the worker closes it.

Closes, with the reasons the client classifies:
- 1008 `authentication_failed`: the token was refused (under access control, a worker's
  API key or the auth string; `core.credentials.authenticate_token`);
- 1008 `unsupported_version`: the worker speaks no channel version Baton speaks;
- 1008 `work_pool_not_found`: no such pool and the worker did not ask to create it, and
  1008 `invalid_work_pool_name` when it did but the name cannot be a pool's (the client
  takes both as terminal and falls back to REST heartbeats);
- 1002 `protocol_error`: a frame that is not JSON, or not the one expected at that point;
- 1011 `transient_server_error`: the hello could not be stored;
- 1011 `heartbeat_persistence_failed`: a heartbeat could not be stored, or its pool was
  deleted meanwhile (retryable: the worker reconnects and its hello may recreate the pool).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from baton.api.responses import dumps
from baton.api.routing import resource_router
from baton.clock import utcnow, uuid7
from baton.core import work_pools, workers
from baton.core.credentials import authenticate_token
from baton.core.work_pools import WorkerSession
from baton.db.database import Database
from baton.db.failures import STORAGE_ERRORS
from baton.errors import InvalidInput, NotFound, Unavailable
from baton.schemas.work_pools import (
    HEARTBEAT,
    HELLO,
    READY,
    ChannelFrame,
    WorkerChannelHeartbeat,
    WorkerHello,
)
from baton.security.roles import Role
from baton.settings import Settings

log = logging.getLogger(__name__)

router = resource_router(prefix="/work_pools", tags=["work pools"])

SUBPROTOCOL = "prefect"
CHANNEL_VERSION = "work_pool_worker_channel.v1"
# Capabilities Baton serves; both are required by the client, so a hello must ask for both.
CAPABILITIES = ("worker_heartbeat.v1", "work_pool_snapshot.v1")
# What a failed database write can raise.
_STORAGE_ERRORS: tuple[type[Exception], ...] = (*STORAGE_ERRORS, Unavailable)
_HEARTBEAT_ERRORS: tuple[type[Exception], ...] = (NotFound, *_STORAGE_ERRORS)

PROTOCOL_ERROR = 1002
POLICY_VIOLATION = 1008
SERVER_ERROR = 1011


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _protocol_error() -> _Close:
    return _Close(PROTOCOL_ERROR, "protocol_error")


async def authenticated(ws: WebSocket, token: str | None) -> bool:
    """Whether the token of the auth frame admits a worker: accepted credentials whose role
    may register workers (not a viewer)."""
    settings: Settings = ws.app.state.settings
    principal = await authenticate_token(settings, ws.app.state.db, token, utcnow())
    return principal is not None and principal.role != Role.VIEWER


async def _message(ws: WebSocket) -> dict[str, Any] | None:
    """The next frame as a JSON object, or None once the client has gone."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return None
        data: str | bytes | None = message.get("text")
        if data is None:
            data = message.get("bytes")
        if data is None:
            continue
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise _protocol_error() from None
        if not isinstance(parsed, dict):
            raise _protocol_error()
        return parsed


def _frame(message: dict[str, Any], expected: str) -> ChannelFrame:
    try:
        frame = ChannelFrame.model_validate(message)
    except ValidationError:
        raise _protocol_error() from None
    if frame.type != expected:
        raise _protocol_error()
    return frame


def _hello(message: dict[str, Any]) -> WorkerHello:
    payload = _frame(message, HELLO).payload
    versions = payload.get("supported_channel_versions")
    if isinstance(versions, list) and CHANNEL_VERSION not in versions:
        raise _Close(POLICY_VIOLATION, "unsupported_version")
    try:
        hello = WorkerHello.model_validate(payload)
    except ValidationError:
        raise _protocol_error() from None
    if not set(CAPABILITIES) <= set(hello.requested_capabilities):
        raise _protocol_error()
    return hello


def _ready(hello: WorkerHello, session: WorkerSession) -> str:
    requested = list(dict.fromkeys(hello.requested_capabilities))
    payload = {
        "consumer_id": hello.consumer_id,
        "worker_id": session.worker_id,
        "selected_channel_version": CHANNEL_VERSION,
        "effective_heartbeat_interval_seconds": hello.heartbeat_interval_seconds,
        "accepted_capabilities": [c for c in requested if c in CAPABILITIES],
        "rejected_capabilities": [c for c in requested if c not in CAPABILITIES],
        "effective_max_cleanup_concurrency": 0,
        "resolved_work_queues": session.queues,
        "initial_snapshot": {
            "snapshot_sequence": 1,
            "reason": "initial",
            "work_pool": session.pool,
        },
    }
    frame = {"type": READY, "id": uuid7(), "sent_at": utcnow(), "payload": payload}
    return dumps(frame).decode()


@router.websocket("/{name}/workers/connect")
async def worker_channel(ws: WebSocket, name: str) -> None:
    if SUBPROTOCOL not in ws.scope.get("subprotocols", ()):
        await ws.accept()
        await ws.close(PROTOCOL_ERROR, "protocol_error")
        return
    await ws.accept(subprotocol=SUBPROTOCOL)
    db: Database = ws.app.state.db
    try:
        await _serve(ws, db, name)
    except _Close as close:
        await ws.close(close.code, close.reason)
    except (WebSocketDisconnect, OSError):
        pass  # the worker went away mid-send


async def _serve(ws: WebSocket, db: Database, pool_name: str) -> None:
    auth = await _message(ws)
    if auth is None:
        return
    token = auth.get("token")
    if auth.get("type") != "auth" or not (token is None or isinstance(token, str)):
        raise _protocol_error()
    if not await authenticated(ws, token):
        raise _Close(POLICY_VIOLATION, "authentication_failed")
    await ws.send_text('{"type":"auth_success"}')

    message = await _message(ws)
    if message is None:
        return
    hello = _hello(message)
    try:
        session = await work_pools.connect_worker(db, pool_name, hello)
    except NotFound:
        raise _Close(POLICY_VIOLATION, "work_pool_not_found") from None
    except InvalidInput:
        raise _Close(POLICY_VIOLATION, "invalid_work_pool_name") from None
    except _STORAGE_ERRORS as exc:
        log.warning("worker channel: could not store the hello of %r: %s", hello.worker_name, exc)
        raise _Close(SERVER_ERROR, "transient_server_error") from None
    await ws.send_text(_ready(hello, session))

    while (message := await _message(ws)) is not None:
        try:
            beat = WorkerChannelHeartbeat.model_validate(_frame(message, HEARTBEAT).payload)
        except ValidationError:
            raise _protocol_error() from None
        if beat.consumer_id != hello.consumer_id:
            raise _protocol_error()
        try:
            await workers.channel_heartbeat(
                db, session.pool_id, hello.worker_name, beat.heartbeat_interval_seconds
            )
        except _HEARTBEAT_ERRORS as exc:
            log.warning("worker channel: heartbeat of %r not stored: %s", hello.worker_name, exc)
            raise _Close(SERVER_ERROR, "heartbeat_persistence_failed") from None
