"""Tag concurrency limits (the v1 API): a limit on how many task runs with a tag run at once.

As in Prefect 3, a tag limit is the global limit named "tag:<tag>": the task engine asks for
those names with leases (holder: its task run), and the v1 API reads and writes the same
rows, so there is one mechanism. A v1 tag limit is that global limit seen as
{tag, concurrency_limit, active_slots}, where `active_slots` lists the task runs holding a
slot (through a v1 increment or a task-run lease).

A v1 increment takes one slot per tag for the task run, as a lease per tag with no expiry:
v1 callers never renew, so the slot is held until the task run gives it back (decrement),
the limit is reset, or it is deleted. Asking again for a slot the task run holds takes no
second one. A tag limit of 0 refuses with 423 and no `Retry-After`: the v1 client then
aborts the task instead of waiting forever.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.clock import utcnow, uuid7
from baton.core import slots as s
from baton.core.slots import LE, LL, Holder, L, SlotsUnavailable
from baton.db.database import Database
from baton.db.dialect import insert
from baton.errors import NotFound

PREFIX = "tag:"
NOT_FOUND = "Concurrency limit not found."

Ref = uuid.UUID | str  # a tag limit is addressed by id or by tag


def _match(ref: Ref) -> sa.ColumnElement[bool]:
    if isinstance(ref, uuid.UUID):
        return sa.and_(L.c.id == ref, L.c.name.startswith(PREFIX, autoescape=True))
    return L.c.name == PREFIX + ref


def _names(tags: Iterable[str]) -> list[str]:
    return sorted({PREFIX + tag for tag in tags})


def _tag(row: s.Row) -> str:
    return str(row.name).removeprefix(PREFIX)


def _holder(task_run_id: uuid.UUID) -> sa.ColumnElement[bool]:
    return sa.and_(LE.c.holder_type == "task_run", LE.c.holder_id == task_run_id)


async def _out(conn: AsyncConnection, rows: Sequence[s.Row]) -> list[dict[str, Any]]:
    """The v1 shape of `rows`, with the task runs holding their slots (oldest first)."""
    holders: defaultdict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if rows:
        stmt = (
            sa.select(LL.c.limit_id, LE.c.holder_id)
            .join(LE, LE.c.id == LL.c.lease_id)
            .where(LL.c.limit_id.in_([row.id for row in rows]), LE.c.holder_type == "task_run")
            .order_by(LE.c.created, LE.c.id)
        )
        for limit_id, holder_id in await conn.execute(stmt):
            if holder_id not in holders[limit_id]:
                holders[limit_id].append(holder_id)
    return [
        {
            "id": row.id,
            "created": row.created,
            "updated": row.updated,
            "tag": _tag(row),
            "concurrency_limit": row.limit,
            "active_slots": holders[row.id],
        }
        for row in rows
    ]


async def upsert_tag_limit(db: Database, tag: str, limit: int) -> tuple[dict[str, Any], bool]:
    """Create the tag's limit, or set its limit if it exists; and whether it was created."""

    def job(conn: sa.Connection) -> bool:
        now = utcnow()
        while True:  # until one of the two lands: the row may vanish between them
            stmt = (
                insert(conn, L)
                .values(id=uuid7(), created=now, updated=now, name=PREFIX + tag, limit=limit)
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(L.c.id)
            )
            if conn.execute(stmt).first() is not None:
                return True
            for row in s.lock_limits(conn, L.c.name == PREFIX + tag):
                values = {"limit": limit, "active_slots": s.level(row, now), "updated": now}
                conn.execute(sa.update(L).where(L.c.id == row.id).values(**values))
                return False

    created = await db.write(job)
    return await read_tag_limit(db, tag), created


async def read_tag_limit(db: Database, ref: Ref) -> dict[str, Any]:
    async with db.read() as conn:
        rows = (await conn.execute(sa.select(*L.c).where(_match(ref)))).all()
        if not rows:
            raise NotFound(NOT_FOUND)
        return (await _out(conn, rows))[0]


async def filter_tag_limits(db: Database, limit: int, offset: int) -> list[dict[str, Any]]:
    async with db.read() as conn:
        stmt = (
            sa.select(*L.c)
            .where(L.c.name.startswith(PREFIX, autoescape=True))
            .order_by(L.c.name)
            .limit(limit)
            .offset(offset)
        )
        return await _out(conn, (await conn.execute(stmt)).all())


async def delete_tag_limit(db: Database, ref: Ref) -> None:
    if not await db.write(lambda conn: s.delete_limits(conn, _match(ref))):
        raise NotFound(NOT_FOUND)


async def reset_tag_limit(
    db: Database,
    tag: str,
    slot_override: Sequence[uuid.UUID] | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Forget every holder of the tag's slots; with `slot_override`, those task runs hold
    one slot each instead."""

    def job(conn: sa.Connection) -> bool:
        at = now or utcnow()
        where = L.c.name == PREFIX + tag
        leases = [lease.id for lease in s.lock_leases(conn, s.leases_on(where))]
        rows = s.lock_limits(conn, where)
        if not rows:
            return False
        row = rows[0]
        conn.execute(sa.delete(LL).where(LL.c.limit_id == row.id))
        s.drop_idle_leases(conn, leases)
        holders = list(dict.fromkeys(slot_override or ()))
        for task_run_id in holders:
            s.grant_lease(conn, [row], 1, None, Holder("task_run", task_run_id), at)
        values = {"_id": row.id, "_level": len(holders), "_denied": 0}
        s.set_levels(conn, [{**values, "_avg": row.avg_slot_occupancy_seconds}], at)
        return True

    if not await db.write(job):
        raise NotFound(NOT_FOUND)


async def increment_tags(
    db: Database, tags: Sequence[str], task_run_id: uuid.UUID, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Take a slot on each tag's limit for the task run, or none (SlotsUnavailable); the
    limits of the tags that have one, named by tag."""

    def job(conn: sa.Connection) -> list[dict[str, Any]] | SlotsUnavailable:
        at = now or utcnow()
        rows = s.lock_limits(conn, L.c.name.in_(_names(tags)))
        closed = [repr(_tag(row)) for row in rows if row.active and row.limit == 0]
        if closed:
            detail = f"The concurrency limit on tag {', '.join(closed)} is 0: it admits no task."
            return SlotsUnavailable(detail, None)
        held_query = (
            sa.select(LL.c.limit_id)
            .join(LE, LE.c.id == LL.c.lease_id)
            .where(LL.c.limit_id.in_([row.id for row in rows]), _holder(task_run_id))
        )
        held = set(conn.scalars(held_query))
        wanted = [row for row in rows if row.id not in held]
        try:
            s.take_slots(conn, wanted, 1, at)
        except SlotsUnavailable as refused:
            return refused
        for row in wanted:
            s.grant_lease(conn, [row], 1, None, Holder("task_run", task_run_id), at)
        return [s.minimal_out(row, _tag(row)) for row in rows]

    return s.granted(await db.write(job))


async def decrement_tags(
    db: Database, tags: Sequence[str], task_run_id: uuid.UUID, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Give back the slots the task run holds on the tags' limits."""

    def job(conn: sa.Connection) -> list[dict[str, Any]]:
        at = now or utcnow()
        on_tags = L.c.name.in_(_names(tags))
        leases = s.lock_leases(conn, _holder(task_run_id), s.leases_on(on_tags))
        s.release_leases(conn, leases, at, only=on_tags)
        rows = conn.execute(sa.select(*L.c).where(on_tags).order_by(L.c.name)).all()
        return [s.minimal_out(row, _tag(row)) for row in rows]

    return await db.write(job)
