"""The few statements that are spelled differently on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert(
    conn: sa.Connection | AsyncConnection, table: sa.Table
) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that supports ON CONFLICT on both dialects."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
