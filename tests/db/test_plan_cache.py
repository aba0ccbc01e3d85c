"""PostgreSQL plans every execution with its bound values (never a generic plan), on every
pooled connection."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from fastapi import FastAPI


async def test_postgres_plans_with_the_bound_values(app: FastAPI) -> None:
    db = app.state.db
    if db.is_sqlite:
        pytest.skip("SQLite has no plan cache setting")

    async def mode() -> str:
        async with db.read() as conn:
            value = await conn.scalar(sa.text("SHOW plan_cache_mode"))
            await asyncio.sleep(0.05)  # hold the connection, so the others open their own
            return str(value)

    assert set(await asyncio.gather(*(mode() for _ in range(4)))) == {"force_custom_plan"}
    assert (
        await db.write(lambda conn: conn.execute(sa.text("SHOW plan_cache_mode")).scalar())
        == "force_custom_plan"
    )
