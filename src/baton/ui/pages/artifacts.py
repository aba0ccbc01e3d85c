"""Artifacts: the list (latest first, keyset paged, by key or type) and one artifact,
rendered safely, with the other versions of its key."""

from __future__ import annotations

import urllib.parse
from typing import Any

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from baton.core.artifacts import read_artifact
from baton.db import tables as t
from baton.ui.markdown import render_artifact
from baton.ui.queries.common import Cursor, Page, after_clause, page_of
from baton.ui.web import database, page, parse_id, ui_router

router = ui_router()
A = t.artifact
_COLUMNS = (A.c.id, A.c.key, A.c.type, A.c.description, A.c.created, A.c.flow_run_id)


async def _artifact_page(
    conn: AsyncConnection, key: str, kind: str, after: str | None, before: str | None
) -> Page:
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
        .limit(51)
    )
    rows = [dict(r._mapping) for r in (await conn.execute(stmt)).all()]
    return page_of(rows, 50, "created", back is not None, cursor is not None)


@router.get("/artifacts")
async def artifact_list(request: Request) -> Response:
    params = request.query_params
    key = params.get("key", "").strip()[:255]
    kind = params.get("type", "").strip()[:255]
    async with database(request).read() as conn:
        result = await _artifact_page(conn, key, kind, params.get("after"), params.get("before"))
        kinds = list(
            await conn.scalars(
                sa.select(A.c.type).where(A.c.type.is_not(None)).distinct().limit(50)
            )
        )
    kept = [(k, v) for k, v in params.multi_items() if k not in ("after", "before")]
    context = {
        "result": result,
        "key": key,
        "kind": kind,
        "kinds": sorted(kinds),
        "base_query": urllib.parse.urlencode(kept),
    }
    return page(request, "pages/artifacts.html", context)


@router.get("/artifacts/{raw_id}")
async def artifact_page(request: Request, raw_id: str) -> Response:
    artifact = await read_artifact(database(request), parse_id(raw_id, "Artifact"))
    versions: list[dict[str, Any]] = []
    run = None
    async with database(request).read() as conn:
        if artifact["key"]:
            stmt = (
                sa.select(A.c.id, A.c.created, A.c.description)
                .where(A.c.key == artifact["key"])
                .order_by(A.c.created.desc(), A.c.id.desc())
                .limit(20)
            )
            versions = [dict(r._mapping) for r in (await conn.execute(stmt)).all()]
        if artifact["flow_run_id"]:
            found = (
                await conn.execute(
                    sa.select(t.flow_run.c.id, t.flow_run.c.name).where(
                        t.flow_run.c.id == artifact["flow_run_id"]
                    )
                )
            ).first()
            run = None if found is None else dict(found._mapping)
    context = {
        "a": artifact,
        "shown": render_artifact(artifact["type"], artifact["data"]),
        "versions": versions,
        "run": run,
    }
    return page(request, "pages/artifact.html", context)
