"""Flows: upsert by name, read, update tags, delete, query."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow, uuid7
from baton.core import filters as qf
from baton.db import tables as t
from baton.db.database import Database
from baton.db.dialect import insert
from baton.errors import NotFound
from baton.schemas.filters import FlowFilterBody

_COLUMNS = (
    t.flow.c.id,
    t.flow.c.created,
    t.flow.c.updated,
    t.flow.c.name,
    t.flow.c.tags,
    t.flow.c.labels,
)


def _as_dict(row: sa.RowMapping) -> dict[str, Any]:
    flow = dict(row)
    flow["labels"] = flow["labels"] or {}
    return flow


async def upsert_flow(
    db: Database, name: str, tags: list[str], labels: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """The flow named `name`, created if missing. Returns (flow, created)."""
    async with db.read() as conn:
        existing = await conn.run_sync(_by_name, name)
    if existing is not None:  # the common case: every flow run re-registers its flow
        return existing, False

    def job(conn: sa.Connection) -> tuple[dict[str, Any], bool]:
        now = utcnow()
        stmt = (
            insert(conn, t.flow)
            .values(id=uuid7(), created=now, updated=now, name=name, tags=tags, labels=labels)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(*_COLUMNS)
        )
        row = (conn.execute(stmt)).mappings().first()
        if row is not None:
            return _as_dict(row), True
        # Another request created it between our read and this write.
        flow = _by_name(conn, name)
        assert flow is not None
        return flow, False

    return await db.write(job)


async def read_flow(db: Database, flow_id: uuid.UUID) -> dict[str, Any]:
    async with db.read() as conn:
        row = (
            (await conn.execute(sa.select(*_COLUMNS).where(t.flow.c.id == flow_id)))
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound("Flow not found")
    return _as_dict(row)


def _by_name(conn: sa.Connection, name: str) -> dict[str, Any] | None:
    row = (conn.execute(sa.select(*_COLUMNS).where(t.flow.c.name == name))).mappings().first()
    return None if row is None else _as_dict(row)


async def read_flow_by_name(db: Database, name: str) -> dict[str, Any]:
    async with db.read() as conn:
        flow = await conn.run_sync(_by_name, name)
    if flow is None:
        raise NotFound("Flow not found")
    return flow


async def update_flow(db: Database, flow_id: uuid.UUID, tags: list[str] | None) -> None:
    def job(conn: sa.Connection) -> None:
        values: dict[str, Any] = {"updated": utcnow()}
        if tags is not None:
            values["tags"] = tags
        result = conn.execute(t.flow.update().where(t.flow.c.id == flow_id).values(**values))
        if result.rowcount == 0:
            raise NotFound("Flow not found")

    await db.write(job)


async def delete_flow(db: Database, flow_id: uuid.UUID) -> None:
    """Delete a flow and, through the foreign keys, its runs and their histories."""

    def job(conn: sa.Connection) -> None:
        result = conn.execute(t.flow.delete().where(t.flow.c.id == flow_id))
        if result.rowcount == 0:
            raise NotFound("Flow not found")

    await db.write(job)


async def filter_flows(db: Database, body: FlowFilterBody) -> list[dict[str, Any]]:
    limit, offset = body.page
    async with db.read() as conn:
        where = qf.flow_where(body, body.flows, conn.dialect.name)
        stmt = sa.select(*_COLUMNS).where(*where).order_by(*qf.flow_order(body.sort))
        rows = (await conn.execute(stmt.limit(limit).offset(offset))).mappings().all()
    return [_as_dict(row) for row in rows]


async def count_flows(db: Database, body: FlowFilterBody) -> int:
    async with db.read() as conn:
        where = qf.flow_where(body, body.flows, conn.dialect.name)
        stmt = sa.select(sa.func.count()).select_from(t.flow).where(*where)
        return int(await conn.scalar(stmt) or 0)
