"""The global log search: newest first by keyset on (timestamp, id), filtered by text, level,
flow, run and time; each page's run and flow names read in one query."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.core.logs import log_where
from baton.db import tables as t
from baton.ui.queries.common import FR, Cursor, Page, after_clause, page_of
from baton.ui.queries.run_detail import LOG, LOG_COLUMNS, log_dict, log_filter


async def search_logs(
    conn: AsyncConnection,
    *,
    text: str,
    level: int,
    flow_id: uuid.UUID | None,
    run_id: uuid.UUID | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    after: str | None,
    before: str | None,
    limit: int,
) -> Page:
    where = [log_where(log_filter(level, text))]
    if run_id is not None:
        where.append(LOG.c.flow_run_id == run_id)
    if flow_id is not None:
        where.append(LOG.c.flow_run_id.in_(sa.select(FR.c.id).where(FR.c.flow_id == flow_id)))
    if since is not None:
        where.append(LOG.c.timestamp >= since)
    if until is not None:
        where.append(LOG.c.timestamp <= until)
    back = Cursor.decode(before)
    cursor = back or Cursor.decode(after)
    read_desc = back is None  # the page reads newest first; ?before= reads the other way
    if cursor is not None:
        where.append(after_clause(LOG.c.timestamp, LOG.c.id, cursor, read_desc))
    order = (
        (LOG.c.timestamp.desc(), LOG.c.id.desc())
        if read_desc
        else (LOG.c.timestamp.asc(), LOG.c.id.asc())
    )
    stmt = sa.select(*LOG_COLUMNS).where(*where).order_by(*order).limit(limit + 1)
    rows = [log_dict(r) for r in (await conn.execute(stmt)).all()]
    result = page_of(rows, limit, "timestamp", back is not None, cursor is not None)
    await _add_run_names(conn, result.rows)
    return result


async def _add_run_names(conn: AsyncConnection, logs: list[dict[str, Any]]) -> None:
    ids = {log["flow_run_id"] for log in logs if log["flow_run_id"] is not None}
    names: dict[uuid.UUID, Any] = {}
    if ids:
        rows = await conn.execute(
            sa.select(FR.c.id, FR.c.name, t.flow.c.name.label("flow_name"))
            .join(t.flow, t.flow.c.id == FR.c.flow_id)
            .where(FR.c.id.in_(ids))
        )
        names = {r.id: r for r in rows.all()}
    for log in logs:
        found = names.get(log["flow_run_id"])
        log["run_name"] = found.name if found else None
        log["flow_name"] = found.flow_name if found else None
