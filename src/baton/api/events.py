"""/api/events: the client's event stream in, live subscriptions out, and stored reads.

Both websockets speak the `prefect` subprotocol: the first client frame is
`{"type": "auth", "token": ...}`, answered `{"type": "auth_success"}`. A client that offers
no subprotocol is served in legacy mode, without that handshake. Baton has no API auth
yet, so any token is accepted.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import logging
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import Query, Request, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.requests import HTTPConnection
from starlette.responses import Response

from baton.api.deps import DB
from baton.api.responses import ORJSONResponse, dumps
from baton.api.routing import resource_router
from baton.clock import utcnow
from baton.core.credentials import authenticate_token
from baton.errors import InvalidInput
from baton.events import query
from baton.events.store import EventStore, Subscription
from baton.schemas.events import Event, EventFilter, EventFilterRequest, Record
from baton.security.roles import Role
from baton.settings import Settings

log = logging.getLogger(__name__)

router = resource_router(prefix="/events", tags=["events"])

SUBPROTOCOL = "prefect"
BACKFILL_LIMIT = 1000  # stored events replayed to a new subscriber before live ones

# Close codes (RFC 6455).
POLICY_VIOLATION = 1008
SERVER_ERROR = 1011
SERVICE_RESTART = 1012


def _store(conn: HTTPConnection) -> EventStore:
    store: EventStore = conn.app.state.events
    return store


async def _receive(ws: WebSocket) -> str | bytes | None:
    """The next text or binary frame, or None once the client has gone."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return None
        data: str | bytes | None = message.get("text")
        if data is None:
            data = message.get("bytes")
        if data is not None:
            return data


async def _handshake(ws: WebSocket, *, writes: bool) -> bool:
    """Accept the socket and, with the `prefect` subprotocol, take the auth frame. With
    access control on, its token must be accepted (close 1008 otherwise); a socket that
    `writes` events needs a role that may write. Under API keys the Prefect client sends
    no token to /events/in (compat surface §5): such streams are accepted when
    `anonymous_events` is on (the default), and never on /events/out."""
    settings: Settings = ws.app.state.settings
    if SUBPROTOCOL not in ws.scope.get("subprotocols", ()):
        if settings.auth_mode != "none":
            await ws.close(POLICY_VIOLATION)  # before accepting: HTTP 403 on the upgrade
            return False
        await ws.accept()  # legacy mode: no handshake
        return True
    await ws.accept(subprotocol=SUBPROTOCOL)
    frame = await _receive(ws)
    if frame is None:
        return False
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError:
        message = None
    if not isinstance(message, dict) or message.get("type") != "auth":
        await ws.close(POLICY_VIOLATION, "Expected 'auth' message")
        return False
    token = message.get("token")
    if settings.auth_mode != "none":
        anonymous_ok = writes and settings.anonymous_events and settings.auth_mode == "keys"
        if not isinstance(token, str) or not token:
            if not anonymous_ok:
                await ws.close(POLICY_VIOLATION, "Auth required but no token provided")
                return False
        else:
            principal = await authenticate_token(settings, ws.app.state.db, token, utcnow())
            if principal is None:
                await ws.close(POLICY_VIOLATION, "Invalid token")
                return False
            if writes and principal.role == Role.VIEWER:
                await ws.close(POLICY_VIOLATION, "The viewer role may not send events")
                return False
    await ws.send_text('{"type":"auth_success"}')
    return True


@router.websocket("/in")
async def events_in(ws: WebSocket) -> None:
    """One event per frame. A malformed event is logged and skipped; the rest go to the
    store, which commits them within its flush window."""
    if not await _handshake(ws, writes=True):
        return
    store = _store(ws)
    while (frame := await _receive(ws)) is not None:
        try:
            event = Event.model_validate_json(frame)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            log.warning("skipped a malformed event (%s: %s)", where or "frame", first["msg"])
            continue
        try:
            await store.add([event.record(utcnow())])
        except RuntimeError:  # the store has closed: the server is shutting down
            await ws.close(SERVICE_RESTART, "Server is restarting")
            return


@router.websocket("/out")
async def events_out(ws: WebSocket) -> None:
    """After the handshake, one `{"type": "filter", "filter": {...}}` frame; then stored
    events matching it since `filter.occurred.since`, then every new matching event, as
    `{"type": "event", "event": {...}}` frames."""
    if not await _handshake(ws, writes=False):
        return
    frame = await _receive(ws)
    if frame is None:
        return
    try:
        message = orjson.loads(frame)
        if not isinstance(message, dict) or message.get("type") != "filter":
            raise ValueError("Expected 'filter' message")
        event_filter = EventFilter.model_validate(message.get("filter") or {})
    except (ValueError, ValidationError) as exc:
        reason = "Expected 'filter' message" if not isinstance(exc, ValidationError) else None
        await ws.close(POLICY_VIOLATION, reason or "Invalid filter")
        return

    store = _store(ws)
    with store.bus.subscribe(event_filter) as subscription:
        # Subscribed before reading the backlog, so nothing falls between the two.
        backlog: list[Record] = []
        if event_filter.occurred.since is not None:
            backlog = await query.backfill(store.db, event_filter, BACKFILL_LIMIT)
        watcher = asyncio.create_task(_end_on_disconnect(ws, subscription))
        try:
            await _stream(ws, subscription, backlog)
        except (WebSocketDisconnect, OSError):
            pass  # the client went away mid-send
        finally:
            watcher.cancel()


async def _stream(ws: WebSocket, subscription: Subscription, backlog: list[Record]) -> None:
    replayed = {event["id"] for event in backlog}
    for event in backlog:
        await ws.send_text(_event_frame(event))
    while (live := await subscription.get()) is not None:
        if live["id"] not in replayed:
            await ws.send_text(_event_frame(live))
    if subscription.disconnected:
        return
    if subscription.overflowed:
        # It fell behind; the client reconnects and backfills from its last event.
        await ws.close(SERVER_ERROR, "Subscriber fell behind")
    else:
        await ws.close(SERVICE_RESTART, "Server is restarting")


async def _end_on_disconnect(ws: WebSocket, subscription: Subscription) -> None:
    try:
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass  # nothing more is expected from a subscriber
    finally:
        subscription.disconnected = True
        subscription.end()


def _event_frame(event: Record) -> str:
    return dumps({"type": "event", "event": event}).decode()


# --- REST -------------------------------------------------------------------------------


@router.post("/filter")
async def read_events(body: EventFilterRequest, request: Request, db: DB) -> Response:
    """A page of stored events, newest first unless the filter says ASC (Prefect's EventPage)."""
    event_filter = body.filter or EventFilter()
    return await _page(request, db, event_filter, body.limit, None)


@router.get("/filter/next", name="read_next_page_of_events")
async def read_next_page(
    request: Request, db: DB, page_token: Annotated[str, Query(alias="page-token")]
) -> Response:
    event_filter, limit, after = _decode_token(page_token)
    return await _page(request, db, event_filter, limit, after)


async def _page(
    request: Request,
    db: DB,
    event_filter: EventFilter,
    limit: int,
    after: tuple[dt.datetime, uuid.UUID] | None,
) -> Response:
    events, total, last = await query.read_page(db, event_filter, limit, after)
    next_page = None
    if last is not None:
        token = _encode_token(event_filter, limit, last)
        next_page = (
            f"{request.url_for('read_next_page_of_events')}?{urlencode({'page-token': token})}"
        )
    return ORJSONResponse({"events": events, "total": total, "next_page": next_page})


def _encode_token(event_filter: EventFilter, limit: int, last: Record) -> str:
    state = {
        "filter": event_filter.model_dump(mode="json"),
        "limit": limit,
        "after": [last["occurred"], last["id"]],
    }
    return base64.urlsafe_b64encode(dumps(state)).decode().rstrip("=")


def _decode_token(token: str) -> tuple[EventFilter, int, tuple[dt.datetime, uuid.UUID]]:
    try:
        raw: Any = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        request = EventFilterRequest.model_validate(
            {"filter": raw["filter"], "limit": raw["limit"]}
        )
        occurred, event_id = raw["after"]
        after = (dt.datetime.fromisoformat(occurred), uuid.UUID(event_id))
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput("Invalid page token.", "query.page-token") from exc
    assert request.filter is not None
    return request.filter, request.limit, after
