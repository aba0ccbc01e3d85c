"""Write jobs that add rows with plain SQL, for tests of the database layer (no core code)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlalchemy as sa


def insert_flow(name: str) -> Callable[[sa.Connection], str]:
    """A write job adding a flow named `name`; it returns the name."""

    def job(conn: sa.Connection) -> str:
        conn.execute(
            sa.text(
                "INSERT INTO flow (id, created, updated, name, tags) "
                "VALUES (:id, '2026-01-01', '2026-01-01', :name, '[]')"
            ),
            {"id": uuid.uuid4().hex, "name": name},
        )
        return name

    return job
