"""The audit log, newest first, keyset paged by time (the `at` index serves it)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.db import tables as t
from baton.ui.queries.common import Cursor, Page, after_clause, page_of

A = t.audit
PAGE = 50


async def audit_page(
    conn: AsyncConnection,
    actor: str,
    since: dt.datetime | None,
    after: str | None,
    before: str | None,
) -> Page:
    where: list[sa.ColumnElement[bool]] = []
    if actor:
        where.append(A.c.actor == actor)
    if since is not None:
        where.append(A.c.at >= since)
    back = Cursor.decode(before)
    cursor = back or Cursor.decode(after)
    desc = back is None
    if cursor is not None:
        where.append(after_clause(A.c.at, A.c.id, cursor, desc))
    order = (A.c.at.desc(), A.c.id.desc()) if desc else (A.c.at.asc(), A.c.id.asc())
    stmt = sa.select(A).where(*where).order_by(*order).limit(PAGE + 1)
    rows = [dict(r._mapping) for r in (await conn.execute(stmt)).all()]
    return page_of(rows, PAGE, "at", back is not None, cursor is not None)
