"""UI users: a name, a role and a bcrypt password hash."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

import bcrypt
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from baton.clock import utcnow, uuid7
from baton.db import tables as t
from baton.db.database import Database
from baton.errors import Conflict, InvalidInput, NotFound
from baton.security.roles import Role

U = t.ui_user
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD} characters.")
    if len(password.encode()) > 72:
        raise InvalidInput("A password may have at most 72 bytes (bcrypt's limit).")
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


async def add_user(db: Database, name: str, role: Role, password: str) -> dict[str, Any]:
    hashed = hash_password(password)
    user_id, now = uuid7(), utcnow()

    def job(conn: sa.Connection) -> None:
        try:
            with conn.begin_nested():
                conn.execute(
                    U.insert().values(
                        id=user_id, created=now, name=name, role=role.value, password_hash=hashed
                    )
                )
        except sa_exc.IntegrityError:
            raise Conflict(f"A user named {name!r} already exists.") from None

    await db.write(job)
    return {"id": str(user_id), "name": name, "role": role.value}


async def list_users(db: Database) -> list[dict[str, Any]]:
    async with db.read() as conn:
        rows = (await conn.execute(sa.select(U).order_by(U.c.name))).all()
    return [{"id": str(r.id), "name": r.name, "role": r.role, "disabled": r.disabled} for r in rows]


async def remove_user(db: Database, name: str) -> None:
    def job(conn: sa.Connection) -> None:
        if conn.execute(U.delete().where(U.c.name == name)).rowcount == 0:
            raise NotFound(f"No user is named {name!r}.")

    await db.write(job)


async def set_password(db: Database, name: str, password: str) -> None:
    hashed = hash_password(password)

    def job(conn: sa.Connection) -> None:
        done = conn.execute(U.update().where(U.c.name == name).values(password_hash=hashed))
        if done.rowcount == 0:
            raise NotFound(f"No user is named {name!r}.")

    await db.write(job)


async def enabled_user(db: Database, name: str) -> tuple[Role, str] | None:
    """The role and password hash of an enabled user (None if unknown or disabled): what a
    UI session is checked against on every request."""
    async with db.read() as conn:
        row = (
            await conn.execute(
                sa.select(U.c.role, U.c.password_hash, U.c.disabled).where(U.c.name == name)
            )
        ).first()
    if row is None or row.disabled:
        return None
    return Role(row.role), row.password_hash


async def check_password(db: Database, name: str, password: str) -> Role | None:
    """The user's role if the password is right, else None (the same work either way)."""
    async with db.read() as conn:
        row = (await conn.execute(sa.select(U).where(U.c.name == name))).first()
    # Compare against a dummy hash for unknown users, so timing does not reveal names.
    stored = row.password_hash if row is not None else _dummy_hash()
    # bcrypt takes a good fraction of a second on purpose: off the event loop.
    ok = await asyncio.to_thread(bcrypt.checkpw, password.encode()[:72], stored.encode())
    if row is None or row.disabled or not ok:
        return None
    return Role(row.role)


@cache
def _dummy_hash() -> str:
    return bcrypt.hashpw(b"not a password", bcrypt.gensalt()).decode()
