"""Liveness and readiness: /api/health answers while the process runs, /api/ready only
while the database does."""

from __future__ import annotations

from baton.api.deps import DB
from baton.api.routing import resource_router
from baton.errors import Unavailable

router = resource_router(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "healthy"}


@router.get("/ready")
async def ready(db: DB) -> dict[str, str]:
    try:
        await db.ping()
    except Exception as exc:
        raise Unavailable(f"The database is not answering: {type(exc).__name__}.") from exc
    return {"status": "ready"}
