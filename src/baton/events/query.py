"""Stored events: an EventFilter as SQL (the same meaning as `schemas.events.matches`), and
the reads of /api/events/filter and the backfill of /api/events/out.

Resource ids and roles are answered from `event_resource` (indexed by resource id);
other labels from the JSON of the event's `resource` and `related` columns.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.db import tables as t
from baton.db.database import Database
from baton.schemas.events import (
    RESOURCE_ID,
    ROLE,
    EventAnyResourceFilter,
    EventFilter,
    EventOrder,
    EventRelatedFilter,
    LabelSpec,
    Record,
    spec_values,
)
from baton.schemas.text_search import parse_text_query

EVENT_COLUMNS = (
    t.event.c.id,
    t.event.c.occurred,
    t.event.c.received,
    t.event.c.event,
    t.event.c.resource,
    t.event.c.related,
    t.event.c.payload,
    t.event.c.follows,
)

# A label's value as SQL text, given the label name.
LabelOf = Callable[[str], sa.ColumnElement[Any]]

_E = t.event.c


def event_where(f: EventFilter, dialect: str) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses of `f` over the event table (ANDed)."""
    clauses: list[sa.ColumnElement[bool]] = []
    if f.occurred.since is not None:
        clauses.append(_E.occurred >= f.occurred.since)
    if f.occurred.until is not None:
        clauses.append(_E.occurred <= f.occurred.until)
    if f.event is not None:
        if f.event.prefix:
            clauses.append(
                sa.or_(*(_E.event.startswith(p, autoescape=True) for p in f.event.prefix))
            )
        if f.event.exclude_prefix:
            clauses += [~_E.event.startswith(p, autoescape=True) for p in f.event.exclude_prefix]
        if f.event.name:
            clauses.append(_E.event.in_(f.event.name))
        if f.event.exclude_name:
            clauses.append(_E.event.not_in(f.event.exclude_name))
    if f.resource is not None:
        r = f.resource
        if r.id:
            clauses.append(_E.resource_id.in_(r.id))
        if r.id_prefix:
            clauses.append(
                sa.or_(*(_E.resource_id.startswith(p, autoescape=True) for p in r.id_prefix))
            )
        if r.labels:
            clauses.append(_spec_clause(r.labels, _resource_label(dialect)))
    for rf in f.related_filters:
        clauses += _related_clauses(rf, dialect)
    for af in f.any_resource_filters:
        clauses.append(_any_resource_clause(af, dialect))
    if f.id.id:
        clauses.append(_E.id.in_(f.id.id))
    if f.text is not None:
        clauses.append(_text_clause(f.text.query))
    return clauses


def _spec_clause(spec: LabelSpec, label_of: LabelOf) -> sa.ColumnElement[bool]:
    return sa.and_(
        *(
            sa.or_(*(_value_clause(expected, label_of(label)) for expected in spec_values(values)))
            for label, values in spec.items()
        )
    )


def _value_clause(expected: str, value: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    negate = expected.startswith("!")
    if negate:
        expected = expected[1:]
    if expected.endswith("*"):
        hit = value.startswith(expected[:-1], autoescape=True)
    else:
        hit = value == expected
    # Like `label_matches`: a missing label matches nothing, not even a negation.
    return sa.and_(value.is_not(None), sa.not_(hit)) if negate else hit


def _json_text(dialect: str, doc: sa.ColumnElement[Any], label: str) -> sa.ColumnElement[Any]:
    if dialect == "postgresql":
        return doc.op("->>", return_type=sa.String())(sa.literal(label, sa.String()))
    return sa.func.json_extract(doc, f'$."{label}"', type_=sa.String())


def _resource_label(dialect: str) -> LabelOf:
    def label_of(label: str) -> sa.ColumnElement[Any]:
        if label == RESOURCE_ID:
            return _E.resource_id
        return _json_text(dialect, _E.resource, label)

    return label_of


def _related_elements(dialect: str) -> tuple[sa.TableValuedAlias, sa.ColumnElement[Any]]:
    """The items of the event's `related` JSON array, as a table with one `value` column."""
    if dialect == "postgresql":
        elements = sa.func.jsonb_array_elements(_E.related).table_valued(
            sa.column("value", postgresql.JSONB())
        )
    else:
        elements = sa.func.json_each(_E.related).table_valued("value")
    return elements, elements.c.value


def _only_ids_and_roles(spec: LabelSpec | None) -> bool:
    return not spec or set(spec) <= {RESOURCE_ID, ROLE}


def _related_clauses(f: EventRelatedFilter, dialect: str) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    if f.id or f.role or f.labels:
        if _only_ids_and_roles(f.labels):
            er = t.event_resource.alias("er")
            columns = {RESOURCE_ID: er.c.resource_id, ROLE: er.c.resource_role}
            where = [er.c.event_id == _E.id, er.c.resource_role != ""]
            label_of: LabelOf = columns.__getitem__
            source: sa.FromClause = er
        else:
            elements, value = _related_elements(dialect)
            where = []
            label_of = lambda label: _json_text(dialect, value, label)  # noqa: E731
            source = elements
        if f.id:
            where.append(label_of(RESOURCE_ID).in_(f.id))
        if f.role:
            where.append(label_of(ROLE).in_(f.role))
        if f.labels:
            where.append(_spec_clause(f.labels, label_of))
        clauses.append(sa.exists().select_from(source).where(*where))
    for resource_id, role in f.resources_in_roles or ():
        er = t.event_resource.alias("er")
        clauses.append(
            sa.exists().where(
                er.c.event_id == _E.id, er.c.resource_id == resource_id, er.c.resource_role == role
            )
        )
    return clauses


def _any_resource_clause(f: EventAnyResourceFilter, dialect: str) -> sa.ColumnElement[bool]:
    if _only_ids_and_roles(f.labels):
        er = t.event_resource.alias("er")
        columns = {RESOURCE_ID: er.c.resource_id, ROLE: er.c.resource_role}
        where = [er.c.event_id == _E.id]
        if f.id:
            where.append(er.c.resource_id.in_(f.id))
        if f.id_prefix:
            where.append(
                sa.or_(*(er.c.resource_id.startswith(p, autoescape=True) for p in f.id_prefix))
            )
        if f.labels:
            where.append(_spec_clause(f.labels, columns.__getitem__))
        return sa.exists().where(*where)

    def meets(label_of: LabelOf) -> sa.ColumnElement[bool]:
        resource_id = label_of(RESOURCE_ID)
        parts: list[sa.ColumnElement[bool]] = []
        if f.id:
            parts.append(resource_id.in_(f.id))
        if f.id_prefix:
            parts.append(sa.or_(*(resource_id.startswith(p, autoescape=True) for p in f.id_prefix)))
        if f.labels:
            parts.append(_spec_clause(f.labels, label_of))
        return sa.and_(*parts)

    elements, value = _related_elements(dialect)
    in_related = (
        sa.exists()
        .select_from(elements)
        .where(meets(lambda label: _json_text(dialect, value, label)))
    )
    return sa.or_(meets(lambda label: _json_text(dialect, _E.resource, label)), in_related)


def _text_clause(query: str) -> sa.ColumnElement[bool]:
    q = parse_text_query(query)
    if q.empty:
        return sa.true()
    text = sa.func.lower(
        _E.event
        + " "
        + sa.cast(_E.resource, sa.Text())
        + " "
        + sa.cast(_E.related, sa.Text())
        + " "
        + sa.cast(_E.payload, sa.Text())
    )

    def found(term: str) -> sa.ColumnElement[bool]:
        return text.contains(term, autoescape=True)

    clauses = [found(term) for term in q.required]
    clauses += [sa.not_(found(term)) for term in q.exclude]
    if q.include:
        clauses.append(sa.or_(*(found(term) for term in q.include)))
    return sa.and_(*clauses)


# --- reads ------------------------------------------------------------------------------


def _record(row: sa.RowMapping) -> Record:
    record = dict(row)
    record["id"] = uuid.UUID(str(record["id"]))
    if record["follows"] is not None:
        record["follows"] = uuid.UUID(str(record["follows"]))
    return record


async def read_events(
    conn: AsyncConnection,
    f: EventFilter,
    limit: int,
    *,
    after: tuple[dt.datetime, uuid.UUID] | None = None,
    order: EventOrder | None = None,
) -> list[Record]:
    """Up to `limit` events matching `f`, in `order` (the filter's own by default) by
    (occurred, id), starting after the key `after` when one is given."""
    order = order or f.order
    where = event_where(f, conn.dialect.name)
    if after is not None:
        key = sa.tuple_(_E.occurred, _E.id)
        bound = sa.tuple_(
            sa.literal(after[0], t.event.c.occurred.type), sa.literal(after[1], t.event.c.id.type)
        )
        where.append(key > bound if order is EventOrder.ASC else key < bound)
    if order is EventOrder.ASC:
        sort = (_E.occurred.asc(), _E.id.asc())
    else:
        sort = (_E.occurred.desc(), _E.id.desc())
    query = sa.select(*EVENT_COLUMNS).where(*where).order_by(*sort).limit(limit)
    return [_record(row) for row in (await conn.execute(query)).mappings()]


async def count_events(conn: AsyncConnection, f: EventFilter) -> int:
    query = (
        sa.select(sa.func.count()).select_from(t.event).where(*event_where(f, conn.dialect.name))
    )
    return int((await conn.execute(query)).scalar_one())


async def read_page(
    db: Database,
    f: EventFilter,
    limit: int,
    after: tuple[dt.datetime, uuid.UUID] | None = None,
) -> tuple[list[Record], int, Record | None]:
    """One page of stored events: (events, total matching `f`, last event if more follow)."""
    async with db.read() as conn:
        events = await read_events(conn, f, limit + 1, after=after)
        total = await count_events(conn, f)
    more = len(events) > limit
    events = events[:limit]
    return events, total, events[-1] if more else None


async def backfill(db: Database, f: EventFilter, limit: int) -> list[Record]:
    """Stored events for a new subscriber, oldest first: the latest `limit` of them."""
    async with db.read() as conn:
        events = await read_events(conn, f, limit, order=EventOrder.DESC)
    events.reverse()
    return events
