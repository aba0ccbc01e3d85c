"""Events: the stored event feed, newest first, by name prefix, resource and text."""

from __future__ import annotations

import datetime as dt
import urllib.parse
import uuid
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.responses import Response

from baton.clock import utcnow
from baton.events.query import read_events
from baton.schemas.events import (
    RESOURCE_ID,
    EventAnyResourceFilter,
    EventFilter,
    EventNameFilter,
    EventOccurredFilter,
    EventTextFilter,
)
from baton.ui.gate import ui_router
from baton.ui.queries.common import Cursor
from baton.ui.queries.runs import RANGES
from baton.ui.rendering import page
from baton.ui.state import database

router = ui_router()
PAGE = 50
NAME_LABEL = "prefect.resource.name"


def _link(resource_id: str) -> str | None:
    """Where the UI shows a resource named by its Prefect id, if it has a page."""
    kind, _, ident = resource_id.rpartition(".")
    pages = {
        "prefect.flow-run": "/runs/",
        "prefect.flow": "/flows/",
        "prefect.deployment": "/deployments/",
        "prefect.artifact": "/artifacts/",
    }
    if kind in pages:
        try:
            return pages[kind] + str(uuid.UUID(ident))
        except ValueError:
            return None
    return None


def _resource(labels: dict[str, Any]) -> dict[str, Any]:
    rid = str(labels.get(RESOURCE_ID, ""))
    return {
        "id": rid,
        "name": labels.get(NAME_LABEL) or rid,
        "role": labels.get("prefect.resource.role"),
        "href": _link(rid),
    }


@router.get("/events")
async def event_feed(request: Request) -> Response:
    params = request.query_params
    now = utcnow()
    window = params.get("range", "24h")
    if window not in RANGES and window != "all":
        window = "24h"
    prefix = params.get("event", "").strip()[:200]
    resource = params.get("resource", "").strip()[:255]
    text = params.get("q", "").strip()[:200]
    problem = ""
    try:
        flt = EventFilter(
            occurred=EventOccurredFilter(
                since=now - RANGES[window]
                if window in RANGES
                else dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
                until=now + dt.timedelta(minutes=5),
            ),
            event=EventNameFilter(prefix=[prefix]) if prefix else None,
            any_resource=EventAnyResourceFilter(id_prefix=[resource]) if resource else None,
            text=EventTextFilter(query=text) if text else None,
        )
    except ValidationError as exc:
        problem = str(exc.errors()[0]["msg"])
        flt = EventFilter(occurred=EventOccurredFilter(since=now - RANGES["24h"]))
    cursor = Cursor.decode(params.get("after"))
    after = (cursor.value, cursor.id) if cursor is not None else None
    async with database(request).read() as conn:
        found = await read_events(conn, flt, PAGE + 1, after=after)
    more = len(found) > PAGE
    events = []
    for e in found[:PAGE]:
        events.append(
            {
                "id": e["id"],
                "occurred": e["occurred"],
                "event": e["event"],
                "resource": _resource(e["resource"]),
                "related": [_resource(r) for r in e["related"] or [] if isinstance(r, dict)],
                "payload": e["payload"],
            }
        )
    kept = [(k, v) for k, v in params.multi_items() if k != "after"]
    context = {
        "events": events,
        "next": Cursor(events[-1]["occurred"], events[-1]["id"]).encode() if more else None,
        "window": window,
        "ranges": [*RANGES, "all"],
        "prefix": prefix,
        "resource": resource,
        "text": text,
        "problem": problem,
        "base_query": urllib.parse.urlencode(kept),
        "paged": cursor is not None,
    }
    return page(request, "pages/events.html", context)
