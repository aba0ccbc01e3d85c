"""The audit log: every mutating API call made while access control is on: who (key or
user name), their role, the action (method and route), the object (the path), when, from
where, and the outcome (HTTP status). Written in batches off the request path; what is
buffered is written when the server stops."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa

from baton.clock import uuid7s
from baton.db import tables as t
from baton.db.database import Database

log = logging.getLogger("baton.audit")
A = t.audit


class AuditLog:
    def __init__(self, db: Database, flush_interval: float = 1.0) -> None:
        self.db = db
        self._buffer: list[dict[str, Any]] = []
        self._interval = flush_interval
        self._task: asyncio.Task[None] | None = None

    def record(
        self,
        at: dt.datetime,
        actor: str,
        role: str | None,
        action: str,
        obj: str,
        status: int,
        source: str | None,
    ) -> None:
        self._buffer.append(
            {
                "at": at,
                "actor": actor[:255],
                "role": role,
                "action": action[:300],
                "object": obj[:1000],
                "status": status,
                "source": (source or "")[:255] or None,
            }
        )

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="baton-audit")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def flush(self) -> None:
        rows, self._buffer = self._buffer, []
        if not rows:
            return
        for row, row_id in zip(rows, uuid7s(len(rows)), strict=True):
            row["id"] = row_id

        def job(conn: sa.Connection) -> None:
            conn.execute(A.insert(), rows)

        try:
            await self.db.write(job)
        except Exception:
            self._buffer[:0] = rows  # kept for the next flush
            raise

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:
                log.exception("writing the audit log failed; retrying")


async def list_audit(
    db: Database, limit: int = 100, actor: str | None = None, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The most recent entries first."""
    query = sa.select(A).order_by(A.c.at.desc(), A.c.id.desc()).limit(limit)
    if actor is not None:
        query = query.where(A.c.actor == actor)
    if since is not None:
        query = query.where(A.c.at >= since)
    async with db.read() as conn:
        rows = (await conn.execute(query)).all()
    return [
        {
            "at": r.at.isoformat(),
            "actor": r.actor,
            "role": r.role,
            "action": r.action,
            "object": r.object,
            "status": r.status,
            "source": r.source,
        }
        for r in rows
    ]
