"""Lease expiry: the slots of a concurrency lease whose holder stopped renewing it (a crashed
task or flow) are given back, so a dead holder never keeps a slot."""

from __future__ import annotations

import datetime as dt

from baton.core import concurrency
from baton.db.database import Database

BATCH = 500  # leases per write job, so one pass never holds the writer long


async def expire_leases(db: Database, now: dt.datetime | None = None) -> int:
    """One pass: release every lease whose expiry is at or before `now`; how many."""
    released = 0
    while True:
        count = await concurrency.expire_leases(db, now, batch=BATCH)
        released += count
        if count < BATCH:
            return released
