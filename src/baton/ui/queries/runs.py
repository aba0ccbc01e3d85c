"""The flow-run list: filters from the URL, keyset pages over 100,000s of runs, capped counts."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.core import filters as qf
from baton.db import tables as t
from baton.ui.format import CANCELLABLE, STATE_TYPES
from baton.ui.queries.common import (
    FR,
    Cursor,
    Page,
    after_clause,
    capped_count,
    is_state,
    page_of,
    select_runs,
)

LATE = "LATE"  # a pseudo state: Scheduled runs marked Late
RANGES = {
    "1h": dt.timedelta(hours=1),
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
}
# sort name → (column key in a run row, column, descending)
SORTS: dict[str, tuple[str, sa.ColumnElement[Any], bool]] = {
    "newest": ("expected_start_time", FR.c.expected_start_time, True),
    "oldest": ("expected_start_time", FR.c.expected_start_time, False),
    "name": ("name", FR.c.name, False),
    "name_desc": ("name", FR.c.name, True),
}
SORT_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "name": "Name A to Z",
    "name_desc": "Name Z to A",
}


def parse_time(raw: str) -> dt.datetime | None:
    """A time from a form field ('2026-11-27T10:00' or a date), taken as UTC."""
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def parse_uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


@dataclass
class RunFilters:
    states: list[str] = field(default_factory=list)
    flow_id: uuid.UUID | None = None
    deployment_id: uuid.UUID | None = None
    work_pool: str = ""
    tags: list[str] = field(default_factory=list)
    text: str = ""
    range: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    parent_run_id: uuid.UUID | None = None

    @classmethod
    def parse(cls, params: Any, now: dt.datetime) -> RunFilters:
        """From the query string (unknown or malformed values are ignored)."""
        states = []
        for raw in params.getlist("state"):
            for value in raw.upper().split(","):
                if (value in STATE_TYPES or value == LATE) and value not in states:
                    states.append(value)
        tags = [
            tag.strip() for raw in params.getlist("tag") for tag in raw.split(",") if tag.strip()
        ]
        found = cls(
            states=states,
            flow_id=parse_uuid(params.get("flow", "")),
            deployment_id=parse_uuid(params.get("deployment", "")),
            work_pool=params.get("pool", "").strip(),
            tags=tags,
            text=params.get("q", "").strip()[:200],
            range=params.get("range", "") if params.get("range", "") in RANGES else "",
            since=parse_time(params.get("from", "")),
            until=parse_time(params.get("to", "")),
        )
        if found.range:
            found.since, found.until = now - RANGES[found.range], None
        return found

    @property
    def active(self) -> bool:
        return bool(
            self.states
            or self.flow_id
            or self.deployment_id
            or self.work_pool
            or self.tags
            or self.text
            or self.since
            or self.until
        )

    def where(self, dialect: str) -> list[sa.ColumnElement[bool]]:
        c = FR.c
        out: list[sa.ColumnElement[bool]] = []
        types = [s for s in self.states if s != LATE]
        state_clauses: list[sa.ColumnElement[bool]] = []
        if types:
            state_clauses.append(is_state(c.state_type, *types))
        if LATE in self.states:
            state_clauses.append(
                sa.and_(is_state(c.state_type, "SCHEDULED"), is_state(c.state_name, "Late"))
            )
        if state_clauses:
            out.append(sa.or_(*state_clauses))
        if self.flow_id is not None:
            out.append(c.flow_id == self.flow_id)
        if self.deployment_id is not None:
            out.append(c.deployment_id == self.deployment_id)
        if self.work_pool:
            out.append(c.work_pool_name == self.work_pool)
        out += [qf.has_tag(c.tags, tag, dialect) for tag in self.tags]
        if self.text:
            out.append(c.name.icontains(self.text, autoescape=True))
        if self.since is not None:
            out.append(c.expected_start_time >= self.since)
        if self.until is not None:
            out.append(c.expected_start_time <= self.until)
        return out


@dataclass(frozen=True)
class Window:
    """Where one page of the list sits: its clauses and order, read forwards or backwards."""

    where: list[sa.ColumnElement[bool]]
    order: tuple[sa.ColumnElement[Any], ...]
    key: str
    backwards: bool
    has_cursor: bool


def window(
    filters: RunFilters, sort: str, after: str | None, before: str | None, dialect: str
) -> Window:
    key, column, desc = SORTS.get(sort, SORTS["newest"])
    where = filters.where(dialect)
    cursor = Cursor.decode(before) or Cursor.decode(after)
    backwards = Cursor.decode(before) is not None
    read_desc = desc != backwards
    if cursor is not None:
        where.append(after_clause(column, FR.c.id, cursor, read_desc))
    order = (column.desc(), FR.c.id.desc()) if read_desc else (column.asc(), FR.c.id.asc())
    return Window(where, order, key, backwards, cursor is not None)


async def run_page(
    conn: AsyncConnection,
    filters: RunFilters,
    sort: str,
    limit: int,
    after: str | None,
    before: str | None,
    now: dt.datetime,
) -> Page:
    w = window(filters, sort, after, before, conn.dialect.name)
    rows = await select_runs(conn, w.where, w.order, limit + 1, now)
    return page_of(rows, limit, w.key, w.backwards, w.has_cursor)


async def count_runs(conn: AsyncConnection, filters: RunFilters) -> int:
    return await capped_count(conn, FR, filters.where(conn.dialect.name))


async def choices(conn: AsyncConnection) -> dict[str, list[Any]]:
    """Flows, deployments and pools for the filter selects (bounded lists)."""
    flows = (
        await conn.execute(sa.select(t.flow.c.id, t.flow.c.name).order_by(t.flow.c.name).limit(500))
    ).all()
    deployments = (
        await conn.execute(
            sa.select(t.deployment.c.id, t.deployment.c.name, t.flow.c.name.label("flow_name"))
            .join(t.flow, t.flow.c.id == t.deployment.c.flow_id)
            .order_by(t.flow.c.name, t.deployment.c.name)
            .limit(500)
        )
    ).all()
    pools = (
        await conn.scalars(sa.select(t.work_pool.c.name).order_by(t.work_pool.c.name).limit(200))
    ).all()
    return {"flows": list(flows), "deployments": list(deployments), "pools": list(pools)}


async def cancellable(conn: AsyncConnection, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of the runs are still active: only those are offered cancellation (the rules
    would let a finished run without a stored result move to Cancelling)."""
    if not ids:
        return set()
    stmt = sa.select(FR.c.id).where(FR.c.id.in_(ids), is_state(FR.c.state_type, *CANCELLABLE))
    return set(await conn.scalars(stmt))
