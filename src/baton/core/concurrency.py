"""Global concurrency limits: create, read, update, delete; take slots and give them back,
all or nothing, with or without a lease that lapses unless its holder renews it.

Where the Prefect client is silent, Baton chooses:

- A request that cannot have all its slots now takes nothing and is refused with 423 and a
  `Retry-After` in seconds, possibly fractional (the client reads it as a float); see
  `slots.wait_for` for how long.
- An inactive limit never refuses, but still counts the slots taken and given back, so it
  tells the truth when switched back on.
- A rate limit's slots (`slot_decay_per_second` > 0) drain continuously. `active_slots` on
  the wire rounds up: a slot partly drained is still taken. `rate_limit` mode needs every
  named limit to decay (else 422), stores no lease, and `decrement` in that mode is a no-op.
- Asking for more slots than an active limit (above 0) has is a 422: it could never succeed.
  A limit of 0 blocks: callers wait (423) until someone raises it.
- Names that match no limit are skipped: a task asks for "tag:<tag>" for each of its tags,
  limited or not. If none match, the answer lists no limits and no lease is stored.
- Releasing a lease that is gone is a no-op, so a holder whose lease lapsed does not fail on
  its way out; renewing one is a NotFound, and renewing a lease past its expiry releases it
  on the spot. `expire_leases` gives back the slots of every lapsed lease. Deleting a limit
  leaves its leases' holders undisturbed: a lease that holds nothing any more still renews
  and releases (see `slots.IDLE`).
- `denied_slots` counts the slots refused since the limit last granted any.
- The average occupancy follows releases (and `decrement`'s `occupancy_seconds`) as a
  moving average; lapsed leases do not count, their holders did not finish.
- `create_if_missing` (deprecated in Prefect) creates the missing limits inactive, with a
  limit of 1: they count but do not block until someone configures them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from baton.clock import utcnow, uuid7
from baton.core import slots as s
from baton.core.slots import LE, Holder, L, SlotsUnavailable
from baton.db.database import Database
from baton.db.dialect import insert
from baton.errors import Conflict, InvalidInput, NotFound

NOT_FOUND = "Concurrency limit not found."
LEASE_NOT_FOUND = "Concurrency lease not found."

Ref = uuid.UUID | str  # a limit is addressed by id or by name


def _match(ref: Ref) -> sa.ColumnElement[bool]:
    return L.c.id == ref if isinstance(ref, uuid.UUID) else L.c.name == ref


def _exists(name: str) -> Conflict:
    return Conflict(f"A concurrency limit with the name {name!r} already exists.")


# --- limits -------------------------------------------------------------------------------


async def create_limit(
    db: Database,
    name: str,
    limit: int,
    *,
    active: bool = True,
    active_slots: int = 0,
    denied_slots: int = 0,
    slot_decay_per_second: float = 0.0,
) -> dict[str, Any]:
    def job(conn: sa.Connection) -> dict[str, Any] | None:
        now = utcnow()
        stmt = (
            insert(conn, L)
            .values(
                id=uuid7(),
                created=now,
                updated=now,
                name=name,
                limit=limit,
                active=active,
                active_slots=active_slots,
                denied_slots=denied_slots,
                slot_decay_per_second=slot_decay_per_second,
            )
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(*L.c)
        )
        row = conn.execute(stmt).first()
        return None if row is None else s.limit_out(row, now)

    created = await db.write(job)
    if created is None:
        raise _exists(name)
    return created


async def read_limit(db: Database, ref: Ref, now: dt.datetime | None = None) -> dict[str, Any]:
    async with db.read() as conn:
        row = (await conn.execute(sa.select(*L.c).where(_match(ref)))).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return s.limit_out(row, now or utcnow())


async def filter_limits(db: Database, limit: int, offset: int) -> list[dict[str, Any]]:
    """Limits by name, tag limits ("tag:<tag>") among them."""
    async with db.read() as conn:
        stmt = sa.select(*L.c).order_by(L.c.name).limit(limit).offset(offset)
        rows = (await conn.execute(stmt)).all()
    now = utcnow()
    return [s.limit_out(row, now) for row in rows]


async def update_limit(db: Database, ref: Ref, changes: dict[str, Any]) -> None:
    """Apply a partial update. The decay up to now is applied first, so a new decay rate
    counts from now on; `active_slots` sets the level outright."""

    def job(conn: sa.Connection) -> bool:
        now = utcnow()
        rows = s.lock_limits(conn, _match(ref))
        if not rows:
            return False
        values = {"active_slots": s.level(rows[0], now), **changes, "updated": now}
        stmt = sa.update(L).where(L.c.id == rows[0].id).values(**values)
        if "name" not in changes:
            conn.execute(stmt)
            return True
        try:
            # The savepoint keeps the transaction usable after a unique-name violation.
            with conn.begin_nested():
                conn.execute(stmt)
        except sa_exc.IntegrityError:
            raise _exists(changes["name"]) from None
        return True

    if not await db.write(job):
        raise NotFound(NOT_FOUND)


async def delete_limit(db: Database, ref: Ref) -> None:
    if not await db.write(lambda conn: s.delete_limits(conn, _match(ref))):
        raise NotFound(NOT_FOUND)


# --- slots --------------------------------------------------------------------------------


def _names(names: Iterable[str]) -> list[str]:
    return sorted(set(names))


def _check_request(rows: Sequence[s.Row], slots: int, mode: str) -> None:
    if mode == "rate_limit":
        steady = [repr(row.name) for row in rows if row.slot_decay_per_second <= 0]
        if steady:
            raise InvalidInput(
                f"rate limiting needs limits with a slot decay, and {', '.join(steady)} has none",
                loc="body.mode",
            )
    for row in rows:
        if row.active and 0 < row.limit < slots:
            raise InvalidInput(
                f"{slots} slots can never be free at once on {row.name!r}, whose limit is "
                f"{row.limit}",
                loc="body.slots",
            )


def _create_missing(conn: sa.Connection, names: list[str], now: dt.datetime) -> None:
    wanted = [name for name in names if name]
    if not wanted:
        return
    conn.execute(
        insert(conn, L).on_conflict_do_nothing(index_elements=["name"]),
        [
            {"id": uuid7(), "created": now, "updated": now, "name": n, "limit": 1, "active": False}
            for n in wanted
        ],
    )


async def increment(
    db: Database,
    names: Sequence[str],
    slots: int,
    mode: str = "concurrency",
    *,
    create_if_missing: bool = False,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Take `slots` on every limit named that exists, or none (SlotsUnavailable)."""

    def job(conn: sa.Connection) -> list[dict[str, Any]] | SlotsUnavailable:
        at = now or utcnow()
        if create_if_missing:
            _create_missing(conn, _names(names), at)
        rows = s.lock_limits(conn, L.c.name.in_(_names(names)))
        _check_request(rows, slots, mode)
        try:
            s.take_slots(conn, rows, slots, at)
        except SlotsUnavailable as refused:
            return refused  # returned, not raised, so the refusal's record is committed
        return [s.minimal_out(row) for row in rows]

    return s.granted(await db.write(job))


async def increment_with_lease(
    db: Database,
    names: Sequence[str],
    slots: int,
    mode: str,
    lease_seconds: float,
    holder: Holder | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Take `slots` on every limit named that exists, or none, under a lease that lapses
    `lease_seconds` from now unless renewed."""

    def job(conn: sa.Connection) -> dict[str, Any] | SlotsUnavailable:
        at = now or utcnow()
        rows = s.lock_limits(conn, L.c.name.in_(_names(names)))
        _check_request(rows, slots, mode)
        try:
            s.take_slots(conn, rows, slots, at)
        except SlotsUnavailable as refused:
            return refused
        lease_id = uuid7()  # an id for the answer, stored only if there is something to hold
        if rows and mode == "concurrency":
            expires = at + dt.timedelta(seconds=lease_seconds)
            lease_id = s.grant_lease(conn, rows, slots, expires, holder, at)
        return {"lease_id": lease_id, "limits": [s.minimal_out(row) for row in rows]}

    return s.granted(await db.write(job))


async def decrement(
    db: Database,
    names: Sequence[str],
    slots: int,
    occupancy_seconds: float | None = None,
    mode: str = "concurrency",
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Give back `slots` on every limit named (never below 0)."""

    def job(conn: sa.Connection) -> list[dict[str, Any]]:
        at = now or utcnow()
        rows = s.lock_limits(conn, L.c.name.in_(_names(names)))
        if mode == "concurrency":
            values = []
            for row in rows:
                avg = row.avg_slot_occupancy_seconds
                if occupancy_seconds is not None:
                    avg = s.average(avg, occupancy_seconds)
                new_level = max(0.0, s.level(row, at) - slots)
                values.append(
                    {"_id": row.id, "_level": new_level, "_denied": row.denied_slots, "_avg": avg}
                )
            s.set_levels(conn, values, at)
        return [s.minimal_out(row) for row in rows]

    return await db.write(job)


async def release_lease(db: Database, lease_id: uuid.UUID, now: dt.datetime | None = None) -> None:
    """Give back the slots a lease holds and forget it; a lease that is gone is a no-op."""

    def job(conn: sa.Connection) -> None:
        s.release_leases(conn, s.lock_leases(conn, LE.c.id == lease_id), now or utcnow())

    await db.write(job)


async def renew_lease(
    db: Database, lease_id: uuid.UUID, lease_seconds: float, now: dt.datetime | None = None
) -> None:
    """Push a live lease's expiry to `lease_seconds` from now. A lease past its expiry is
    released here and then, like one already gone, a NotFound."""

    def job(conn: sa.Connection) -> bool:
        at = now or utcnow()
        live = sa.or_(LE.c.expires.is_(None), LE.c.expires > at)
        expires = at + dt.timedelta(seconds=lease_seconds)
        stmt = sa.update(LE).where(LE.c.id == lease_id, live).values(expires=expires)
        if conn.execute(stmt.returning(LE.c.id)).first() is not None:
            return True
        s.release_leases(conn, s.lock_leases(conn, LE.c.id == lease_id), at, finished=False)
        return False

    if not await db.write(job):
        raise NotFound(LEASE_NOT_FOUND)


async def expire_leases(db: Database, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Give back the slots of up to `batch` leases whose expiry has passed (and forget
    never-lapsing ones left holding nothing by a race with a reset); how many.
    Safe on several replicas: each takes the lapsed leases the others have not locked."""

    def job(conn: sa.Connection) -> int:
        at = now or utcnow()
        lapsed = sa.or_(LE.c.expires <= at, s.IDLE)
        leases = s.lock_leases(conn, lapsed, skip_locked=True, limit=batch)
        s.release_leases(conn, leases, at, finished=False)
        return len(leases)

    return await db.write(job)
