"""Artifacts: the list (latest first, keyset paged, by key or type), the types to filter by,
and the other versions of one artifact's key."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.db import tables as t
from baton.ui.queries.common import Cursor, Page, after_clause, page_of

A = t.artifact
PAGE = 50
_COLUMNS = (A.c.id, A.c.key, A.c.type, A.c.description, A.c.created, A.c.flow_run_id)


async def artifact_page(
    conn: AsyncConnection, key: str, kind: str, after: str | None, before: str | None
) -> Page:
    """A page of artifacts whose key contains `key` and whose type is `kind` (either may be
    empty), with the name of the run each belongs to."""
    where: list[sa.ColumnElement[bool]] = []
    if key:
        where.append(A.c.key.icontains(key, autoescape=True))
    if kind:
        where.append(A.c.type == kind)
    back = Cursor.decode(before)
    cursor = back or Cursor.decode(after)
    desc = back is None
    if cursor is not None:
        where.append(after_clause(A.c.created, A.c.id, cursor, desc))
    order = (A.c.created.desc(), A.c.id.desc()) if desc else (A.c.created.asc(), A.c.id.asc())
    stmt = (
        sa.select(*_COLUMNS, t.flow_run.c.name.label("run_name"))
        .outerjoin(t.flow_run, t.flow_run.c.id == A.c.flow_run_id)
        .where(*where)
        .order_by(*order)
        .limit(PAGE + 1)
    )
    rows = [dict(r._mapping) for r in (await conn.execute(stmt)).all()]
    return page_of(rows, PAGE, "created", back is not None, cursor is not None)


async def artifact_types(conn: AsyncConnection, limit: int = 50) -> list[str]:
    stmt = sa.select(A.c.type).where(A.c.type.is_not(None)).distinct().limit(limit)
    return sorted(await conn.scalars(stmt))


async def versions(conn: AsyncConnection, key: str, limit: int = 20) -> list[dict[str, Any]]:
    """The latest artifacts of `key`, newest first."""
    stmt = (
        sa.select(A.c.id, A.c.created, A.c.description)
        .where(A.c.key == key)
        .order_by(A.c.created.desc(), A.c.id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in (await conn.execute(stmt)).all()]


async def run_name(conn: AsyncConnection, run_id: uuid.UUID) -> dict[str, Any] | None:
    """The id and name of a flow run, if it still exists."""
    fr = t.flow_run
    found = (await conn.execute(sa.select(fr.c.id, fr.c.name).where(fr.c.id == run_id))).first()
    return None if found is None else dict(found._mapping)
