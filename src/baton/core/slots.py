"""Slots of concurrency limits: the level of a limit at a moment, taking slots all or
nothing, leases and giving slots back. Functions of a connection, for write jobs.

A limit row stores its level (`active_slots`, a float) as of `updated`; a rate limit's
slots drain at `slot_decay_per_second` from then on, so the level at any moment is computed
(`level`) and written back with the moment whenever the row changes.

Locking: every job that touches both takes lease rows first (by id), then limit rows (by
name), so on PostgreSQL two jobs never each wait for a row the other holds. On SQLite the
single writer runs jobs one at a time and FOR UPDATE is left out.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from baton.clock import uuid7
from baton.db import tables as t
from baton.errors import BatonError
from baton.schemas.concurrency import MAX_SLOTS

L, LE, LL = t.concurrency_limit, t.concurrency_lease, t.concurrency_lease_limit
Row = sa.Row[*tuple[Any, ...]]
T = TypeVar("T")

MIN_WAIT, MAX_WAIT = 0.1, 30.0
NEWEST_WEIGHT = 0.3  # of the latest occupancy in the moving average
_EPSILON = 1e-9  # float slack when comparing decayed levels


class SlotsUnavailable(BatonError):
    """Not all the slots asked for are free. `retry_after` is when to ask again, in seconds;
    None when asking again cannot help (a tag limit of 0)."""

    status_code = 423
    code = "locked"

    def __init__(self, detail: str, retry_after: float | None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Holder:
    type: str
    id: uuid.UUID


def level(row: Row, now: dt.datetime) -> float:
    """Slots in use at `now`: the stored level less what has decayed since `updated`."""
    elapsed = max(0.0, (now - row.updated).total_seconds())
    return float(max(0.0, row.active_slots - row.slot_decay_per_second * elapsed))


def in_use(value: float) -> int:
    return max(0, math.ceil(value - _EPSILON))


def limit_out(row: Row, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "created": row.created,
        "updated": row.updated,
        "active": row.active,
        "name": row.name,
        "limit": row.limit,
        "active_slots": in_use(level(row, now)),
        "denied_slots": row.denied_slots,
        "slot_decay_per_second": row.slot_decay_per_second,
        "avg_slot_occupancy_seconds": row.avg_slot_occupancy_seconds,
    }


def minimal_out(row: Row, name: str | None = None) -> dict[str, Any]:
    return {"id": row.id, "name": name or row.name, "limit": row.limit}


def average(current: float, sample: float) -> float:
    return current + NEWEST_WEIGHT * (min(max(sample, 0.0), 1e9) - current)


def lock_limits(conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[Row]:
    """The limits matching `where`, locked (on PostgreSQL) in name order."""
    stmt = sa.select(*L.c).where(where).order_by(L.c.name).with_for_update()
    return list(conn.execute(stmt).all())


def lock_leases(
    conn: sa.Connection,
    *where: sa.ColumnElement[bool],
    skip_locked: bool = False,
    limit: int | None = None,
) -> list[Row]:
    """The leases matching `where`, locked (on PostgreSQL) in id order; with `skip_locked`,
    those another transaction holds are left to it."""
    stmt = (
        sa.select(LE.c.id, LE.c.slots, LE.c.created)
        .where(*where)
        .order_by(LE.c.id)
        .limit(limit)
        .with_for_update(skip_locked=skip_locked)
    )
    return list(conn.execute(stmt).all())


def set_levels(conn: sa.Connection, values: list[dict[str, Any]], now: dt.datetime) -> None:
    """Write new levels as of `now`; `values` has keys _id, _level, _denied and _avg."""
    if not values:
        return
    stmt = (
        sa.update(L)
        .where(L.c.id == sa.bindparam("_id"))
        .values(
            active_slots=sa.bindparam("_level"),
            denied_slots=sa.bindparam("_denied"),
            avg_slot_occupancy_seconds=sa.bindparam("_avg"),
            updated=now,
        )
    )
    conn.execute(stmt, values)


def wait_for(row: Row, current: float, slots: int) -> float:
    """Seconds after which asking again for `slots` more on `row` may succeed.

    A rate limit: when enough slots will have decayed. Otherwise the expected time until a
    holder gives one back: the average occupancy over the slots in use. Either way with up
    to 25 % jitter, so refused callers do not return in step, and within 0.1-30 s.
    """
    if row.limit <= 0:
        return MAX_WAIT
    wait: float
    if row.slot_decay_per_second > 0:
        wait = (current + slots - row.limit) / row.slot_decay_per_second
    else:
        wait = row.avg_slot_occupancy_seconds / max(1, in_use(current))
    wait *= random.uniform(1.0, 1.25)
    return min(max(wait, MIN_WAIT), MAX_WAIT)


def take_slots(conn: sa.Connection, rows: Sequence[Row], slots: int, now: dt.datetime) -> None:
    """Take `slots` on each of `rows` (locked), or on none: raise SlotsUnavailable if an
    active one is full. The refusal is recorded in `denied_slots` before it is raised, so
    the caller must return it rather than let it roll back the job."""
    levels = {row.id: level(row, now) for row in rows}
    full = [r for r in rows if r.active and levels[r.id] + slots > r.limit + _EPSILON]
    if full:
        conn.execute(
            sa.update(L)
            .where(L.c.id == sa.bindparam("_id"))
            .values(denied_slots=sa.bindparam("_denied")),
            [{"_id": r.id, "_denied": min(r.denied_slots + slots, MAX_SLOTS)} for r in full],
        )
        names = ", ".join(repr(r.name) for r in full)
        usage = "; ".join(f"{r.name!r}: {in_use(levels[r.id])} of {r.limit}" for r in full)
        raise SlotsUnavailable(
            f"Not enough free slots on {names} for {slots} more (in use {usage}).",
            max(wait_for(r, levels[r.id], slots) for r in full),
        )
    set_levels(
        conn,
        [
            {
                "_id": r.id,
                "_level": levels[r.id] + slots,
                "_denied": 0,
                "_avg": r.avg_slot_occupancy_seconds,
            }
            for r in rows
        ],
        now,
    )


def grant_lease(
    conn: sa.Connection,
    rows: Sequence[Row],
    slots: int,
    expires: dt.datetime | None,
    holder: Holder | None,
    now: dt.datetime,
) -> uuid.UUID:
    """Record a lease on `rows` (whose slots were just taken)."""
    lease_id = uuid7()
    conn.execute(
        sa.insert(LE).values(
            id=lease_id,
            created=now,
            expires=expires,
            slots=slots,
            holder_type=holder.type if holder else None,
            holder_id=holder.id if holder else None,
        )
    )
    conn.execute(sa.insert(LL), [{"lease_id": lease_id, "limit_id": r.id} for r in rows])
    return lease_id


def release_leases(
    conn: sa.Connection,
    leases: Sequence[Row],
    now: dt.datetime,
    *,
    only: sa.ColumnElement[bool] | None = None,
    finished: bool = True,
) -> None:
    """Give back what `leases` (locked) hold on the limits (all of them, or those matching
    `only`), drop those links, and delete the leases left holding nothing. `finished`: the
    holders are done (their occupancy counts in the average), rather than lapsed."""
    if not leases:
        return
    by_id = {lease.id: lease for lease in leases}
    links = sa.select(LL.c.lease_id, LL.c.limit_id).where(LL.c.lease_id.in_(list(by_id)))
    if only is not None:
        links = links.where(LL.c.limit_id.in_(sa.select(L.c.id).where(only)))
    limit_ids = set(conn.scalars(links.with_only_columns(LL.c.limit_id)))
    if limit_ids:
        rows = lock_limits(conn, L.c.id.in_(limit_ids))
        locked = [row.id for row in rows]
        # Read again under the limits' locks: a reset may have dropped some links meanwhile.
        freed: defaultdict[uuid.UUID, int] = defaultdict(int)
        held: defaultdict[uuid.UUID, list[float]] = defaultdict(list)
        for link in conn.execute(links.where(LL.c.limit_id.in_(locked))):
            lease = by_id[link.lease_id]
            freed[link.limit_id] += lease.slots
            held[link.limit_id].append((now - lease.created).total_seconds())
        values = []
        for row in rows:
            if row.id not in freed:
                continue
            avg = row.avg_slot_occupancy_seconds
            for seconds in held[row.id] if finished else ():
                avg = average(avg, seconds)
            new_level = max(0.0, level(row, now) - freed[row.id])
            values.append(
                {"_id": row.id, "_level": new_level, "_denied": row.denied_slots, "_avg": avg}
            )
        set_levels(conn, values, now)
        conn.execute(sa.delete(LL).where(LL.c.lease_id.in_(list(by_id)), LL.c.limit_id.in_(locked)))
    conn.execute(sa.delete(LE).where(LE.c.id.in_(list(by_id)), HOLDS_NOTHING))


def leases_on(where: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """Leases holding slots on a limit matching `where`."""
    on_limits = sa.select(LL.c.lease_id).join(L, L.c.id == LL.c.limit_id).where(where)
    return LE.c.id.in_(on_limits)


HOLDS_NOTHING = ~sa.exists().where(LL.c.lease_id == LE.c.id)
# A lease left holding nothing (its limits deleted or reset) lives on until its holder
# releases it or it lapses, so the holder is not told mid-run that its lease is gone. One
# that never lapses (a v1 tag slot, never renewed) has no holder to wait for: it goes.
IDLE = sa.and_(LE.c.expires.is_(None), HOLDS_NOTHING)


def drop_idle_leases(conn: sa.Connection, lease_ids: Sequence[uuid.UUID]) -> None:
    """Delete the never-lapsing leases among `lease_ids` (locked) that hold nothing."""
    if lease_ids:
        conn.execute(sa.delete(LE).where(LE.c.id.in_(lease_ids), IDLE))


def delete_limits(conn: sa.Connection, where: sa.ColumnElement[bool]) -> bool:
    """Delete the limits matching `where` (and the v1 leases that held nothing else)."""
    leases = [lease.id for lease in lock_leases(conn, leases_on(where))]
    deleted = conn.execute(sa.delete(L).where(where).returning(L.c.id)).first() is not None
    drop_idle_leases(conn, leases)
    return deleted


def granted(outcome: T | SlotsUnavailable) -> T:
    """A write job's outcome, or its recorded refusal raised."""
    if isinstance(outcome, SlotsUnavailable):
        raise outcome
    return outcome
