"""Logs: batched inserts and filtered reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow, uuid7s
from baton.db import tables as t
from baton.db.database import Database
from baton.db.statements import insert_rows
from baton.errors import InvalidInput
from baton.schemas.logs import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    NAME_LENGTH,
    LogCreate,
    LogFilter,
    LogSort,
)
from baton.schemas.text_search import parse_text_query

_COLUMNS = (
    t.log.c.id,
    t.log.c.created,
    t.log.c.updated,
    t.log.c.name,
    t.log.c.level,
    t.log.c.message,
    t.log.c.timestamp,
    t.log.c.flow_run_id,
    t.log.c.task_run_id,
)


_INSERTED = tuple(c.name for c in _COLUMNS)
# A batch up to this size is stored on the event loop (a few milliseconds at most, see
# db/writer.py); a larger one in the writer thread, so the loop keeps serving meanwhile.
QUICK_BATCH = 200


async def create_logs(db: Database, logs: Sequence[LogCreate]) -> int:
    """Insert a client's batch in one statement; returns once it is committed."""
    if not logs:
        return 0
    now = utcnow()
    # Inline rather than as validators, at a Python call per field per record: NUL (which
    # PostgreSQL text cannot hold) becomes U+FFFD, a logger name longer than its column is
    # cut rather than losing the batch, and a time without an offset is taken as UTC.
    rows = [
        (
            log_id,
            now,
            now,
            log.name.replace("\x00", "\ufffd")[:NAME_LENGTH],
            log.level,
            log.message.replace("\x00", "\ufffd"),
            ts if (ts := log.timestamp).tzinfo is not None else ts.replace(tzinfo=dt.UTC),
            log.flow_run_id,
            log.task_run_id,
        )
        for log, log_id in zip(logs, uuid7s(len(logs)), strict=True)
    ]

    def job(conn: sa.Connection) -> None:
        insert_rows(conn, t.log, _INSERTED, rows)

    await db.write(job, quick=len(rows) <= QUICK_BATCH)
    return len(rows)


async def read_logs(
    db: Database,
    log_filter: LogFilter | None,
    limit: int | None,
    offset: int | None,
    sort: LogSort | None,
) -> list[dict[str, Any]]:
    if limit is None:
        limit = DEFAULT_LIMIT
    elif limit > MAX_LIMIT:
        raise InvalidInput(
            f"Invalid limit: must be less than or equal to {MAX_LIMIT}.", "body.limit"
        )
    if sort is LogSort.TIMESTAMP_DESC:
        order = (t.log.c.timestamp.desc(), t.log.c.id.desc())
    else:
        order = (t.log.c.timestamp.asc(), t.log.c.id.asc())
    query = (
        sa.select(*_COLUMNS)
        .where(log_where(log_filter))
        .order_by(*order)
        .limit(limit)
        .offset(offset or 0)
    )
    async with db.read() as conn:
        return [dict(row) for row in (await conn.execute(query)).mappings()]


async def count_logs(db: Database, log_filter: LogFilter | None) -> int:
    query = sa.select(sa.func.count()).select_from(t.log).where(log_where(log_filter))
    async with db.read() as conn:
        return int((await conn.execute(query)).scalar_one())


def log_where(f: LogFilter | None) -> sa.ColumnElement[bool]:
    """The WHERE clause of a log filter (TRUE when there is nothing to filter on)."""
    if f is None:
        return sa.true()
    c = t.log.c
    clauses: list[sa.ColumnElement[bool]] = []
    if f.level is not None:
        if f.level.ge_ is not None:
            clauses.append(c.level >= f.level.ge_)
        if f.level.le_ is not None:
            clauses.append(c.level <= f.level.le_)
    if f.timestamp is not None:
        if f.timestamp.before_ is not None:
            clauses.append(c.timestamp <= f.timestamp.before_)
        if f.timestamp.after_ is not None:
            clauses.append(c.timestamp >= f.timestamp.after_)
    if f.flow_run_id is not None and f.flow_run_id.any_ is not None:
        clauses.append(c.flow_run_id.in_(f.flow_run_id.any_))
    if f.task_run_id is not None:
        if f.task_run_id.any_ is not None:
            clauses.append(c.task_run_id.in_(f.task_run_id.any_))
        if f.task_run_id.is_null_ is not None:
            null = c.task_run_id.is_(None)
            clauses.append(null if f.task_run_id.is_null_ else sa.not_(null))
    if f.name is not None and f.name.any_ is not None:
        clauses.append(c.name.in_(f.name.any_))
    if f.text is not None:
        clauses.append(_text_clause(f.text.query))
    if not clauses:
        return sa.true()
    return sa.or_(*clauses) if f.operator == "or_" else sa.and_(*clauses)


def _text_clause(query: str) -> sa.ColumnElement[bool]:
    q = parse_text_query(query)
    if q.empty:
        return sa.true()

    def found(term: str) -> sa.ColumnElement[bool]:
        return sa.or_(
            t.log.c.message.icontains(term, autoescape=True),
            t.log.c.name.icontains(term, autoescape=True),
        )

    clauses = [found(term) for term in q.required]
    clauses += [sa.not_(found(term)) for term in q.exclude]
    if q.include:
        clauses.append(sa.or_(*(found(term) for term in q.include)))
    return sa.and_(*clauses)
