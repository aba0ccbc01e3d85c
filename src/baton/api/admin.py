"""Server facts the Prefect client checks before it starts work."""

from __future__ import annotations

from fastapi import APIRouter

from baton import PREFECT_SERVER_VERSION

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/version")
async def version() -> str:
    # The client refuses a server whose major version differs and warns on an older one.
    return PREFECT_SERVER_VERSION
