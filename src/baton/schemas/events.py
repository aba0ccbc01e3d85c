"""Events on the wire: the envelope clients send, and the filter readers subscribe with.

Inside the server an event is a plain dict, the *record*: `id` (UUID), `occurred` and
`received` (aware UTC datetimes), `event` (name), `resource` (labels), `related` (list of
labels, each with a `prefect.resource.role`), `payload` and `follows` (UUID or None).
It is what the event table stores, what consumers and subscribers get, and, serialised
with orjson, what goes back on the wire.

`matches(filter, record)` decides live subscriptions; `baton.events.query` turns the same
filter into SQL for stored events, with the same meaning.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import Field, field_validator

from baton.clock import utcnow, uuid7
from baton.schemas.base import Request
from baton.schemas.logs import utc
from baton.schemas.text_search import MAX_QUERY_LENGTH, parse_text_query

Record = dict[str, Any]
Labels = dict[str, str]

_F = TypeVar("_F")

RESOURCE_ID = "prefect.resource.id"
ROLE = "prefect.resource.role"

# Column widths of the event and event_resource tables.
_NAME_LENGTH = 255
_ROLE_LENGTH = 100


def _check_resource(labels: Labels, *, related: bool) -> Labels:
    resource_id = labels.get(RESOURCE_ID)
    if not resource_id:
        raise ValueError(f"a resource needs a non-empty {RESOURCE_ID!r} label")
    if len(resource_id) > _NAME_LENGTH:
        raise ValueError(f"{RESOURCE_ID!r} is longer than {_NAME_LENGTH} characters")
    if related:
        role = labels.get(ROLE)
        if not role:
            raise ValueError(f"a related resource needs a non-empty {ROLE!r} label")
        if len(role) > _ROLE_LENGTH:
            raise ValueError(f"{ROLE!r} is longer than {_ROLE_LENGTH} characters")
    return labels


class Event(Request):
    """An event as a client sends it. `received` is the server's to set."""

    occurred: dt.datetime = Field(default_factory=utcnow)
    event: Annotated[str, Field(min_length=1, max_length=_NAME_LENGTH)]
    resource: Labels
    related: list[Labels] = Field(default_factory=list)
    payload: dict[str, Any] = Field(default_factory=dict)
    id: uuid.UUID = Field(default_factory=uuid7)
    follows: uuid.UUID | None = None

    @field_validator("occurred")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        return utc(value)

    @field_validator("resource")
    @classmethod
    def _resource(cls, value: Labels) -> Labels:
        return _check_resource(value, related=False)

    @field_validator("related")
    @classmethod
    def _related(cls, value: list[Labels]) -> list[Labels]:
        return [_check_resource(labels, related=True) for labels in value]

    def record(self, received: dt.datetime) -> Record:
        return {
            "id": self.id,
            "occurred": self.occurred,
            "received": received,
            "event": self.event,
            "resource": self.resource,
            "related": self.related,
            "payload": self.payload,
            "follows": self.follows,
        }


# --- the filter -----------------------------------------------------------------------

# A label specification: label -> value or values; a value may end in "*" (prefix) or
# start with "!" (negation). A label matches when any of its values does; a resource
# matches when every label does.
LabelSpec = dict[str, str | list[str]]


class _Labelled(Request):
    labels: LabelSpec | None = None

    @field_validator("labels")
    @classmethod
    def _plain_label_names(cls, spec: LabelSpec | None) -> LabelSpec | None:
        # Label names become JSON paths in SQL; keep them to characters that need no quoting.
        for label in spec or {}:
            if not label or any(ch in label for ch in '"\\$[]'):
                raise ValueError(f"unsupported label name {label!r}")
        return spec


class EventOccurredFilter(Request):
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        return None if value is None else utc(value)


class EventNameFilter(Request):
    prefix: list[str] | None = None
    exclude_prefix: list[str] | None = None
    name: list[str] | None = None
    exclude_name: list[str] | None = None


class EventResourceFilter(_Labelled):
    id: list[str] | None = None
    id_prefix: list[str] | None = None
    distinct: bool = False  # accepted, not applied: every matching event is returned


class EventRelatedFilter(_Labelled):
    """Matches when one related resource meets `id`, `role` and `labels` together, and the
    event has every (resource id, role) pair of `resources_in_roles`."""

    id: list[str] | None = None
    role: list[str] | None = None
    resources_in_roles: list[tuple[str, str]] | None = None


class EventAnyResourceFilter(_Labelled):
    """Matches when the resource or one related resource meets every criterion."""

    id: list[str] | None = None
    id_prefix: list[str] | None = None


class EventIDFilter(Request):
    id: list[uuid.UUID] | None = None


class EventTextFilter(Request):
    query: Annotated[str, Field(max_length=MAX_QUERY_LENGTH)]


class EventOrder(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class EventFilter(Request):
    occurred: EventOccurredFilter = Field(default_factory=EventOccurredFilter)
    event: EventNameFilter | None = None
    resource: EventResourceFilter | None = None
    related: EventRelatedFilter | list[EventRelatedFilter] | None = None
    any_resource: EventAnyResourceFilter | list[EventAnyResourceFilter] | None = None
    id: EventIDFilter = Field(default_factory=EventIDFilter)
    text: EventTextFilter | None = None
    order: EventOrder = EventOrder.DESC

    @property
    def related_filters(self) -> list[EventRelatedFilter]:
        return _as_list(self.related)

    @property
    def any_resource_filters(self) -> list[EventAnyResourceFilter]:
        return _as_list(self.any_resource)


def _as_list(value: _F | list[_F] | None) -> list[_F]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- matching live events ---------------------------------------------------------------


def label_matches(expected: str, value: str | None) -> bool:
    """One value of a label specification against a label's value."""
    if value is None:
        return False
    negate = expected.startswith("!")
    if negate:
        expected = expected[1:]
    hit = value.startswith(expected[:-1]) if expected.endswith("*") else value == expected
    return hit != negate


def spec_values(values: str | list[str]) -> list[str]:
    return [values] if isinstance(values, str) else values


def spec_matches(spec: LabelSpec, labels: Labels) -> bool:
    return all(
        any(label_matches(expected, labels.get(label)) for expected in spec_values(values))
        for label, values in spec.items()
    )


def searchable_text(record: Record) -> str:
    """What an event text search looks through: the name, every label and the payload."""
    parts = (record["resource"], record["related"], record["payload"])
    return " ".join([record["event"], *(orjson.dumps(part).decode() for part in parts)])


def matches(f: EventFilter, record: Record) -> bool:
    """Whether the event `record` passes the filter `f`."""
    occurred = record["occurred"]
    if f.occurred.since is not None and occurred < f.occurred.since:
        return False
    if f.occurred.until is not None and occurred > f.occurred.until:
        return False
    if f.event is not None and not _name_matches(f.event, record["event"]):
        return False
    resource: Labels = record["resource"]
    if f.resource is not None and not _resource_matches(f.resource, resource):
        return False
    related: list[Labels] = record["related"]
    for rf in f.related_filters:
        if not _related_matches(rf, related):
            return False
    for af in f.any_resource_filters:
        if not any(_any_resource_matches(af, labels) for labels in [resource, *related]):
            return False
    if f.id.id and record["id"] not in f.id.id:
        return False
    if f.text is not None:
        query = parse_text_query(f.text.query)
        if not query.empty and not query.matches(searchable_text(record)):
            return False
    return True


def _name_matches(f: EventNameFilter, name: str) -> bool:
    if f.prefix and not any(name.startswith(p) for p in f.prefix):
        return False
    if f.exclude_prefix and any(name.startswith(p) for p in f.exclude_prefix):
        return False
    if f.name and name not in f.name:
        return False
    return not (f.exclude_name and name in f.exclude_name)


def _resource_matches(f: EventResourceFilter, labels: Labels) -> bool:
    resource_id = labels[RESOURCE_ID]
    if f.id and resource_id not in f.id:
        return False
    if f.id_prefix and not any(resource_id.startswith(p) for p in f.id_prefix):
        return False
    return not (f.labels and not spec_matches(f.labels, labels))


def _related_matches(f: EventRelatedFilter, related: list[Labels]) -> bool:
    if f.id or f.role or f.labels:

        def one(labels: Labels) -> bool:
            if f.id and labels[RESOURCE_ID] not in f.id:
                return False
            if f.role and labels.get(ROLE) not in f.role:
                return False
            return not (f.labels and not spec_matches(f.labels, labels))

        if not any(one(labels) for labels in related):
            return False
    pairs = {(labels[RESOURCE_ID], labels.get(ROLE)) for labels in related}
    return all(tuple(pair) in pairs for pair in f.resources_in_roles or ())


def _any_resource_matches(f: EventAnyResourceFilter, labels: Labels) -> bool:
    resource_id = labels[RESOURCE_ID]
    if f.id and resource_id not in f.id:
        return False
    if f.id_prefix and not any(resource_id.startswith(p) for p in f.id_prefix):
        return False
    return not (f.labels and not spec_matches(f.labels, labels))


# --- REST reads -------------------------------------------------------------------------

MAX_PAGE = 500  # events per page of POST /api/events/filter
DEFAULT_PAGE = 50


class EventFilterRequest(Request):
    filter: EventFilter | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE
