"""API keys: made once and shown once, stored only as a SHA-256 hash, revocable, with an
optional expiry. Keys are 32 random bytes (URL-safe base64) after a `baton_` prefix, so a
plain hash is as strong as a slow one would be, and a lookup is one indexed query."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow, uuid7
from baton.db import tables as t
from baton.db.database import Database
from baton.errors import NotFound
from baton.security.roles import Role

K = t.api_key
PREFIX = "baton_"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyOwner:
    id: uuid.UUID
    name: str
    role: Role


def _out(row: Any, now: dt.datetime) -> dict[str, Any]:
    if row.revoked is not None:
        status = "revoked"
    elif row.expires is not None and row.expires <= now:
        status = "expired"
    else:
        status = "active"
    return {
        "id": str(row.id),
        "name": row.name,
        "role": row.role,
        "prefix": row.prefix,
        "created": row.created.isoformat(),
        "expires": row.expires.isoformat() if row.expires else None,
        "last_used": row.last_used.isoformat() if row.last_used else None,
        "status": status,
    }


async def create_key(
    db: Database, name: str, role: Role, expires: dt.datetime | None = None
) -> dict[str, Any]:
    """A new key: the returned `key` is the only time it is ever shown."""
    key = PREFIX + secrets.token_urlsafe(32)
    key_id, now = uuid7(), utcnow()

    def job(conn: sa.Connection) -> None:
        conn.execute(
            K.insert().values(
                id=key_id,
                created=now,
                name=name,
                role=role.value,
                hash=key_hash(key),
                prefix=key[: len(PREFIX) + 4],
                expires=expires,
            )
        )

    await db.write(job)
    return {
        "id": str(key_id),
        "name": name,
        "role": role.value,
        "key": key,
        "created": now.isoformat(),
        "expires": expires.isoformat() if expires else None,
    }


async def list_keys(db: Database) -> list[dict[str, Any]]:
    async with db.read() as conn:
        rows = (await conn.execute(sa.select(K).order_by(K.c.created, K.c.id))).all()
    now = utcnow()
    return [_out(row, now) for row in rows]


async def revoke_key(db: Database, ref: str) -> dict[str, Any]:
    """Revoke by id, by name (when unique) or by the shown prefix."""

    def job(conn: sa.Connection) -> dict[str, Any]:
        match: list[Any]
        try:
            match = list(conn.execute(sa.select(K).where(K.c.id == uuid.UUID(ref))))
        except ValueError:
            match = list(
                conn.execute(sa.select(K).where(sa.or_(K.c.name == ref, K.c.prefix == ref)))
            )
        if not match:
            raise NotFound(f"No API key has the id, name or prefix {ref!r}.")
        if len(match) > 1:
            ids = ", ".join(str(row.id) for row in match)
            raise NotFound(f"Several API keys match {ref!r} ({ids}); give the id.")
        now = utcnow()
        conn.execute(
            K.update().where(K.c.id == match[0].id, K.c.revoked.is_(None)).values(revoked=now)
        )
        row = conn.execute(sa.select(K).where(K.c.id == match[0].id)).one()
        return _out(row, now)

    return await db.write(job)


async def owner_of(db: Database, key: str, now: dt.datetime) -> KeyOwner | None:
    """The key's owner, or None if the key is unknown, revoked or expired."""
    if not key.startswith(PREFIX):
        return None
    async with db.read() as conn:
        row = (
            await conn.execute(
                sa.select(K.c.id, K.c.name, K.c.role, K.c.expires, K.c.revoked).where(
                    K.c.hash == key_hash(key)
                )
            )
        ).first()
    if row is None or row.revoked is not None or (row.expires is not None and row.expires <= now):
        return None
    return KeyOwner(row.id, row.name, Role(row.role))


async def note_use(db: Database, key_id: uuid.UUID, now: dt.datetime) -> None:
    def job(conn: sa.Connection) -> None:
        conn.execute(K.update().where(K.c.id == key_id).values(last_used=now))

    await db.write(job)
